// Handing queued tasks to workers and their results back to the callers: the pool's scheduling,
// apart from which workers exist (worker-slots.ts) and which tasks are admitted (pool.ts).
import { performance } from "node:perf_hooks";
import type { TaskResult } from "./protocol.js";
import { TaskCancelledError, TaskCloneError, TaskError, TaskTimeoutError } from "./pool-errors.js";
import type { TaskOutcome } from "./pool-options.js";
import type { IdleWorkers } from "./idle-workers.js";
import type { TaskQueue } from "./task-queue.js";
import type { TaskTimings } from "./task-timings.js";
import type { WorkerSlots } from "./worker-slots.js";
import type { PendingTask, WorkerState } from "./worker-state.js";

/** Most tasks one worker holds at once (running plus waiting in its batch). */
const maxBatch = 16;
const now = () => performance.timeOrigin + performance.now();

export interface DispatchHooks {
  /** The task at the head of the queue waited past the limit by its turn: the error to refuse it with, or undefined to run it. */
  lateRefusal(task: PendingTask, at: number): Error | undefined;
  succeeded(task: PendingTask): void;
  /** A worker above the core has nothing to do. */
  growthWentIdle(): void;
}

/**
 * Targets measured to be trivial join the batch of a worker that is already awake (up to
 * `maxBatch` each) before another is woken, which saves messages and thread wake-ups; anything
 * slow, unknown or time-limited waits for an idle worker, so a slow task never
 * holds back another behind it. Messages each way are sent once per tick per worker, carrying
 * every task or result.
 */
export class Dispatcher {
  closing = false;
  private flushScheduled = false;
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly slots: WorkerSlots,
    private readonly idle: IdleWorkers,
    private readonly queue: TaskQueue,
    private readonly timings: TaskTimings,
    private readonly hooks: DispatchHooks,
  ) {}

  get busy(): number {
    return this.slots.all.filter((w) => w && w.inFlight.length > 0).length;
  }

  /** The work the busy workers still hold, estimated (ms): the rest of each running task, and all of each one waiting in a batch. */
  heldWorkMs(at: number): number {
    let ms = 0;
    for (const worker of this.slots.all) {
      if (!worker || worker.inFlight.length === 0) continue;
      const running = worker.inFlight[0]!;
      ms += Math.max(0, running.estimateMs - (at - running.dispatchedAt));
      for (let i = 1; i < worker.inFlight.length; i++) ms += worker.inFlight[i]!.estimateMs;
    }
    return ms;
  }

  /** Resolves once nothing is queued or running. */
  drained(): Promise<void> {
    if (this.queue.waiting === 0 && this.busy === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  /** A worker has nothing to do: it waits among the idle ones, and takes what is queued. */
  workerIdle(worker: WorkerState): void {
    const at = performance.now();
    this.idle.put(worker, at);
    if (worker.slot > this.slots.coreSize) this.hooks.growthWentIdle();
    this.pump();
  }

  pump(): void {
    let task = this.queue.peek();
    if (task !== undefined) {
      const at = now();
      for (; task !== undefined; task = this.queue.peek()) {
        const refusal = this.hooks.lateRefusal(task, at) ?? (task.signal?.aborted ? new TaskCancelledError(false, at - task.enqueuedAt) : undefined);
        if (refusal) {
          // It leaves the queue as settled; peek() skips it.
          this.finish(task).reject(refusal);
          continue;
        }
        const worker = task.fast ? this.workerForFastTask() : task.quick ? this.idle.takeForQuick() : this.idle.take();
        if (!worker) break;
        this.queue.take();
        task.state = "running";
        task.dispatchedAt = at;
        worker.assign(task);
        if (!this.flushScheduled) {
          this.flushScheduled = true;
          setImmediate(this.flush);
        }
      }
    }
    if (this.closing) this.notifyDrained();
  }

  /**
   * A fast task joins the least-loaded worker that is awake with only fast tasks and has room,
   * else wakes an idle one: waking a sleeping thread costs more than a trivial task.
   */
  private workerForFastTask(): WorkerState | undefined {
    let best: WorkerState | undefined;
    for (const worker of this.slots.all) {
      if (!worker?.canBatch(maxBatch)) continue;
      if (!best || worker.inFlight.length < best.inFlight.length) best = worker;
    }
    return best ?? this.idle.takeForQuick();
  }

  /** Sends each worker the tasks it was given this tick, in one message. */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (const worker of this.slots.all) {
      if (!worker || worker.outbox.length === 0) continue;
      for (const [task, reason] of worker.sendOutbox()) {
        if (worker.inFlight.length === 0 && worker.ready && !worker.inIdle) this.idle.put(worker, performance.now());
        this.finish(task).reject(new TaskCloneError(`its input could not be copied to a worker (${reason})`));
      }
    }
    this.pump();
  };

  settleAll(worker: WorkerState, results: TaskResult[]): void {
    for (const result of results) this.settle(worker, result);
    if (worker.inFlight.length === 0 && worker.ready && !worker.inIdle) this.workerIdle(worker);
    else this.pump();
  }

  private settle(worker: WorkerState, result: TaskResult): void {
    const task = worker.take(result.id);
    if (!task) return; // timed out and already answered
    const queuedMs = Math.max(0, result.startedAt - task.enqueuedAt);
    this.finish(task);
    if (result.cancelled) {
      task.reject(new TaskCancelledError(false, queuedMs));
      return;
    }
    this.timings.record(task.kind, task.target, result.runMs);
    if (result.ok) {
      this.hooks.succeeded(task);
      (task.resolve as (outcome: TaskOutcome) => void)({ value: result.value, slot: worker.slot, queuedMs, runMs: result.runMs });
    } else if (task.signal?.aborted) {
      // It stopped because it was cancelled (or failed meanwhile): the caller asked to stop, so it is told that.
      task.reject(new TaskCancelledError(true, queuedMs));
    } else {
      task.reject(new TaskError(result.value as TaskError["serialized"], worker.slot, queuedMs, result.runMs));
    }
  }

  /** Marks a task settled exactly once, clears its timer and its abort listener; returns it for chaining. */
  finish(task: PendingTask): PendingTask {
    if (task.state === "queued") this.queue.left(task);
    task.state = "settled";
    if (task.timer) clearTimeout(task.timer);
    if (task.onAbort) task.signal!.removeEventListener("abort", task.onAbort);
    return task;
  }

  rejectQueued(error: Error): void {
    this.queue.drain((task) => {
      task.state = "settled"; // the queue already let it go
      this.finish(task).reject(error);
    });
  }

  /**
   * A task's caller cancelled it. Still queued: it leaves the queue and never runs. Held by a
   * worker: taken back if not sent yet, else the worker is told and the task's signal fires.
   */
  cancel(task: PendingTask): void {
    if (task.state === "queued") {
      this.finish(task).reject(new TaskCancelledError(false, now() - task.enqueuedAt));
    } else if (task.state === "running") {
      const worker = this.slots.all.find((w) => w?.inFlight.includes(task));
      if (worker?.cancel(task)) {
        this.finish(task).reject(new TaskCancelledError(false, task.dispatchedAt - task.enqueuedAt));
        if (worker.inFlight.length === 0 && worker.ready && !worker.inIdle) this.workerIdle(worker);
      }
    }
  }

  /**
   * A task ran out of time. Still queued: it just leaves the queue. Running: its worker cannot
   * be interrupted, so it is terminated and replaced (a thread can be stopped; Python's cannot).
   */
  expire(task: PendingTask, timeoutMs: number): void {
    if (task.state === "settled") return;
    if (task.state === "queued") {
      this.finish(task).reject(new TaskTimeoutError(timeoutMs, undefined, timeoutMs));
      return;
    }
    // A time-limited task never shares its worker (it is not fast), so stopping the worker stops only it.
    const worker = this.slots.all.find((w) => w?.inFlight.includes(task))!;
    worker.clear();
    worker.ready = false;
    worker.stoppedForTimeout = true;
    this.finish(task).reject(new TaskTimeoutError(timeoutMs, worker.slot, task.dispatchedAt - task.enqueuedAt));
    void worker.worker.terminate();
  }

  notifyDrained(): void {
    if (this.queue.waiting > 0 || this.busy > 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
