// The worker pool: a set of worker threads and one FIFO queue. Nothing here knows about HTTP:
// a task is "run target T of kind K with this payload".
import { performance } from "node:perf_hooks";
import type { TaskKind, TaskResult } from "./protocol.js";
import {
  PoolClosedError,
  PoolFullError,
  PoolUnavailableError,
  shedError,
  TaskCloneError,
  TaskError,
  TaskTimeoutError,
} from "./pool-errors.js";
import { backoffMs, CrashQuarantine } from "./restart-policy.js";
import { spawnWorker } from "./spawn-worker.js";
import { TaskQueue } from "./task-queue.js";
import { heldTasksAtExit } from "./worker-exit.js";
import { TaskTimings } from "./task-timings.js";
import type { PendingTask, WorkerState } from "./worker-state.js";

export * from "./pool-errors.js";
export { compareSignatures } from "./compare-signatures.js";
export * from "./pool-options.js";
import { defaultPoolSize, type PoolOptions, type RunOptions, type TaskOutcome } from "./pool-options.js";

/** Most tasks one worker holds at once (running plus waiting in its batch). */
const maxBatch = 16;
const now = () => performance.timeOrigin + performance.now();

/**
 * A fixed set of worker threads with one FIFO queue. Targets measured to be trivial join the
 * batch of a worker that is already awake (up to `maxBatch` each) before another is woken, which
 * saves messages and thread wake-ups; anything slow, unknown or time-limited waits here for an
 * idle worker, so a slow task never holds back another behind it. Messages each way are sent
 * once per tick per worker, carrying every task or result.
 */
export class WorkerPool {
  readonly size: number;
  private readonly workers: WorkerState[] = [];
  private readonly idle: WorkerState[] = [];
  private readonly queue = new TaskQueue();
  private readonly maxQueue: number;
  private nextTaskId = 1;
  private closing = false;
  private drainWaiters: (() => void)[] = [];
  /** Failed starts in a row, by slot; a slot with failures is waiting to try again. */
  private readonly failedStarts = new Map<number, number>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private readonly quarantine = new CrashQuarantine();
  private readonly timings = new TaskTimings();
  private flushScheduled = false;

  constructor(private readonly options: PoolOptions) {
    this.size = options.size ?? defaultPoolSize();
    if (!Number.isInteger(this.size) || this.size < 1) {
      throw new RangeError(`pool size must be a positive integer, got ${options.size}`);
    }
    this.maxQueue = options.maxQueue ?? 1024;
  }

  /** Starts every worker and checks that each loaded the same app as the main thread. */
  async start(): Promise<void> {
    const starts: Promise<void>[] = [];
    for (let slot = 1; slot <= this.size; slot++) starts.push(this.spawn(slot));
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await this.terminate();
      throw failed.reason;
    }
  }

  /** Workers that have loaded the app and can take tasks (fewer than `size` while a replacement starts). */
  get ready(): number {
    return this.workers.filter((w) => w.ready).length;
  }

  /** Workers with at least one task. */
  get busy(): number {
    return this.workers.filter((w) => w.inFlight.length > 0).length;
  }

  get queued(): number {
    return this.queue.waiting;
  }

  /** False while no worker is ready and replacements keep failing to start: tasks are refused at once. */
  get available(): boolean {
    return this.failedStarts.size === 0 || this.workers.some((w) => w.ready);
  }

  /** Runs `target` of `kind` on a free worker; resolves with its value and timings. */
  run<T = unknown>(kind: TaskKind, target: number | string, payload: unknown, options: RunOptions = {}): Promise<TaskOutcome<T>> {
    const refusal = this.refusal(kind, target);
    if (refusal) return Promise.reject(refusal);
    return new Promise<TaskOutcome>((resolve, reject) => {
      const task: PendingTask = {
        id: this.nextTaskId++,
        kind,
        target,
        payload,
        enqueuedAt: now(),
        dispatchedAt: 0,
        fast: options.timeoutMs === undefined && this.timings.isFast(kind, target),
        state: "queued",
        retried: false,
        timer: undefined,
        resolve,
        reject,
      };
      if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
        task.timer = setTimeout(() => this.expire(task, options.timeoutMs!), options.timeoutMs);
      }
      this.queue.push(task);
      this.pump();
    }) as Promise<TaskOutcome<T>>;
  }

  /** Why a new task cannot be taken now, or undefined. */
  private refusal(kind: TaskKind, target: number | string): Error | undefined {
    if (this.closing) return new PoolClosedError("the worker pool is shutting down");
    if (!this.available) return this.unavailable();
    if (!this.quarantine.empty) {
      const refusedMs = this.quarantine.refusedFor(kind, target, performance.now());
      if (refusedMs > 0) {
        const crashes = this.quarantine.crashes(kind, target);
        return shedError(
          () => new PoolUnavailableError(`this handler crashed its worker ${crashes} times in a row; it is refused for ${Math.ceil(refusedMs / 1000)} s`, Math.ceil(refusedMs / 1000)),
        );
      }
    }
    if (this.queue.waiting >= this.maxQueue && this.idle.length === 0) {
      return shedError(() => new PoolFullError(`all ${this.size} workers are busy and ${this.queue.waiting} tasks are queued`));
    }
    return undefined;
  }

  private unavailable(): PoolUnavailableError {
    const attempts = Math.min(...this.failedStarts.values());
    const retryAfter = Math.max(1, Math.ceil(backoffMs(attempts) / 1000));
    return shedError(() => new PoolUnavailableError(`no worker could start (${attempts} failed tries in a row); retrying`, retryAfter));
  }

  /** Stops taking tasks, lets queued and running ones finish, then ends the workers. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.queued > 0 || this.busy > 0) {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
    await this.terminate();
  }

  /** Ends every worker now; running and queued tasks fail. */
  async terminate(): Promise<void> {
    this.closing = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    this.rejectQueued(new PoolClosedError("the worker pool was terminated"));
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    this.notifyDrained();
  }

  private rejectQueued(error: Error): void {
    this.queue.drain((task) => {
      task.state = "settled";
      if (task.timer) clearTimeout(task.timer);
      task.reject(error);
    });
  }

  private spawn(slot: number): Promise<void> {
    const options = this.options;
    const { state, started } = spawnWorker(
      slot,
      {
        moduleUrl: options.moduleUrl,
        exportName: options.exportName,
        appIndex: options.appIndex ?? 0,
        niceness: options.niceness ?? 0,
        resourceLimits: options.resourceLimits,
        sharedBuffers: options.sharedBuffers?.() ?? {},
        signature: options.signature,
      },
      {
        ready: (worker) => {
          this.failedStarts.delete(worker.slot);
          this.idle.push(worker);
          this.pump();
        },
        results: (worker, results) => {
          for (const result of results) this.settle(worker, result);
          this.pump();
        },
        exit: (worker, exitCode, error, wasReady) => this.onExit(worker, exitCode, error, wasReady),
      },
    );
    this.workers[slot - 1] = state;
    return started;
  }

  /**
   * A worker is gone. For each task it held, its progress mark tells what happened: a task it
   * had finished but whose result was lost fails (it must not run twice), the one it was running
   * fails, and the ones it never started go back to the front of the queue, once.
   */
  private onExit(worker: WorkerState, exitCode: number, error: Error | undefined, wasReady: boolean): void {
    const idleIndex = this.idle.indexOf(worker);
    if (idleIndex >= 0) this.idle.splice(idleIndex, 1);
    const { requeue, failed, running } = heldTasksAtExit(worker, error ? `${error.name}: ${error.message}` : `exit code ${exitCode}`);
    for (const [task, crash] of failed) this.finish(task).reject(crash);
    if (running && !worker.strayError) this.quarantine.crashed(running.kind, running.target, performance.now());
    const hadTask = running !== undefined || worker.stoppedForTimeout;
    this.queue.pushFront(requeue);
    if (!this.closing) {
      const stray = worker.strayError !== undefined;
      this.options.onWorkerExit?.({ slot: worker.slot, reason: worker.stoppedForTimeout ? "timeout" : "crash", exitCode, error, hadTask, stray });
      if (wasReady || worker.stoppedForTimeout) this.spawnReplacement(worker.slot);
      else this.startFailed(worker.slot, error ?? new Error(`exit code ${exitCode}`));
    }
    this.pump();
    if (this.closing) this.notifyDrained();
  }

  /** A replacement takes the same slot; if it fails to start, `onExit` sees it and backs off. */
  private spawnReplacement(slot: number): void {
    this.spawn(slot).catch(() => {});
  }

  /** Tries again after a backoff, forever; while no worker is ready, tasks are refused at once. */
  private startFailed(slot: number, error: Error): void {
    const attempt = (this.failedStarts.get(slot) ?? 0) + 1;
    this.failedStarts.set(slot, attempt);
    const retryInMs = backoffMs(attempt);
    this.options.onRestartFailed?.({ slot, attempt, retryInMs, error });
    if (!this.available) this.rejectQueued(this.unavailable());
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (!this.closing) this.spawnReplacement(slot);
    }, retryInMs);
    this.restartTimers.add(timer);
  }

  private settle(worker: WorkerState, result: TaskResult): void {
    const task = worker.take(result.id);
    if (!task) return; // timed out and already answered
    if (worker.inFlight.length === 0) this.idle.push(worker);
    this.timings.record(task.kind, task.target, result.runMs);
    const queuedMs = Math.max(0, result.startedAt - task.enqueuedAt);
    this.finish(task);
    if (result.ok) {
      this.quarantine.succeeded(task.kind, task.target);
      (task.resolve as (outcome: TaskOutcome) => void)({ value: result.value, slot: worker.slot, queuedMs, runMs: result.runMs });
    } else {
      task.reject(new TaskError(result.value as TaskError["serialized"], worker.slot, queuedMs, result.runMs));
    }
  }

  private pump(): void {
    for (let task = this.queue.peek(); task !== undefined; task = this.queue.peek()) {
      const worker = task.fast ? this.workerForFastTask() : this.idle.pop();
      if (!worker) break;
      this.queue.take();
      task.state = "running";
      task.dispatchedAt = now();
      worker.assign(task);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
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
    for (const worker of this.workers) {
      if (!worker?.canBatch(maxBatch)) continue;
      if (!best || worker.inFlight.length < best.inFlight.length) best = worker;
    }
    return best ?? this.idle.pop();
  }

  /** Sends each worker the tasks it was given this tick, in one message. */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (const worker of this.workers) {
      if (!worker || worker.outbox.length === 0) continue;
      for (const [task, reason] of worker.sendOutbox()) {
        if (worker.inFlight.length === 0 && worker.ready && !this.idle.includes(worker)) this.idle.push(worker);
        this.finish(task).reject(new TaskCloneError(`its input could not be copied to a worker (${reason})`));
      }
    }
    this.pump();
  };

  /** Marks a task settled exactly once and clears its timer; returns it for chaining. */
  private finish(task: PendingTask): PendingTask {
    if (task.state === "queued") this.queue.left();
    task.state = "settled";
    if (task.timer) clearTimeout(task.timer);
    return task;
  }

  /**
   * A task ran out of time. Still queued: it just leaves the queue. Running: its worker cannot
   * be interrupted, so it is terminated and replaced (a thread can be stopped; Python's cannot).
   */
  private expire(task: PendingTask, timeoutMs: number): void {
    if (task.state === "settled") return;
    if (task.state === "queued") {
      this.finish(task).reject(new TaskTimeoutError(timeoutMs, undefined, timeoutMs));
      return;
    }
    // A time-limited task never shares its worker (it is not fast), so stopping the worker stops only it.
    const worker = this.workers.find((w) => w.inFlight.includes(task))!;
    worker.clear();
    worker.ready = false;
    worker.stoppedForTimeout = true;
    this.finish(task).reject(new TaskTimeoutError(timeoutMs, worker.slot, task.dispatchedAt - task.enqueuedAt));
    void worker.worker.terminate();
  }

  private notifyDrained(): void {
    if (this.queued > 0 || this.busy > 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
