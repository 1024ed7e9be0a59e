// The worker pool: worker threads and a two-line queue. Nothing here knows about HTTP: a task is
// "run target T of kind K with this payload". Which threads exist is worker-slots.ts; when the
// pool grows and shrinks, elastic.ts; how long tasks may wait, wait-budget.ts.
import { performance } from "node:perf_hooks";
import type { TaskKind } from "./protocol.js";
import { PoolClosedError, PoolFullError, shedError, TaskCancelledError } from "./pool-errors.js";
import { Elastic } from "./elastic.js";
import { IdleWorkers } from "./idle-workers.js";
import { CrashQuarantine } from "./restart-policy.js";
import { TaskQueue } from "./task-queue.js";
import { TaskTimings } from "./task-timings.js";
import { WaitBudget } from "./wait-budget.js";
import { heldTasksAtExit } from "./worker-exit.js";
import { Dispatcher } from "./dispatcher.js";
import { spawnOptionsOf } from "./spawn-worker.js";
import { WorkerSlots } from "./worker-slots.js";
import type { ModuleLoader } from "./module-loader.js";
import type { PendingTask, WorkerState } from "./worker-state.js";

export * from "./pool-errors.js";
export { compareSignatures } from "./compare-signatures.js";
export * from "./pool-options.js";
import {
  defaultIdleTimeoutMs,
  defaultMaxPoolSize,
  defaultMaxQueueWaitMs,
  defaultPoolSize,
  type PoolOptions,
  type RunOptions,
  type TaskOutcome,
} from "./pool-options.js";

const now = () => performance.timeOrigin + performance.now();

/**
 * Worker threads with a two-line queue, quick tasks first: a core always there, more while work waits
 * on blocked workers. A task is refused at once when it would wait longer than the wait limit,
 * and when it did wait longer by its turn; the count bound (`maxQueue`) is only a memory cap.
 */
export class WorkerPool {
  readonly coreSize: number;
  readonly maxSize: number;
  private readonly maxQueue: number;
  private readonly slots: WorkerSlots;
  private readonly idle: IdleWorkers;
  private readonly queue = new TaskQueue();
  private readonly timings = new TaskTimings();
  private readonly dispatch: Dispatcher;
  private readonly budget: WaitBudget;
  private readonly elastic: Elastic;
  private readonly quarantine = new CrashQuarantine();
  private nextTaskId = 1;

  constructor(private readonly options: PoolOptions) {
    this.coreSize = options.size ?? defaultPoolSize();
    if (!Number.isInteger(this.coreSize) || this.coreSize < 1) throw new RangeError(`pool size must be a positive integer, got ${options.size}`);
    this.maxSize = options.maxSize ?? defaultMaxPoolSize(this.coreSize);
    if (!Number.isInteger(this.maxSize) || this.maxSize < this.coreSize) {
      throw new RangeError(`the max pool size must be an integer ≥ the pool size (${this.coreSize}), got ${options.maxSize}`);
    }
    this.maxQueue = options.maxQueue ?? 1024;
    this.budget = new WaitBudget(options.maxQueueWaitMs ?? defaultMaxQueueWaitMs);
    this.idle = new IdleWorkers(this.coreSize, this.maxSize);
    this.slots = new WorkerSlots(
      this.coreSize,
      this.maxSize,
      () => spawnOptionsOf(options),
      {
        ready: (worker) => this.dispatch.workerIdle(worker),
        results: (worker, results) => this.dispatch.settleAll(worker, results),
        died: (worker, exitCode, error, replaced) => this.onDied(worker, exitCode, error, replaced),
        unavailable: (error) => this.dispatch.rejectQueued(error),
      },
      options,
    );
    this.dispatch = new Dispatcher(this.slots, this.idle, this.queue, this.timings, {
      lateRefusal: (task, at) => this.lateRefusal(task, at),
      succeeded: (task) => this.quarantine.succeeded(task.kind, task.target),
      growthWentIdle: () => this.elastic.growthWentIdle(),
    });
    this.elastic = new Elastic(this.slots, this.queue, this.idle, options.idleTimeoutMs ?? defaultIdleTimeoutMs, {
      shedLate: () => this.dispatch.pump(),
      onResize: options.onResize,
    });
  }

  /** Starts the core workers and checks that each loaded the same app as the main thread. */
  async start(): Promise<void> {
    await this.slots.prepare();
    const results = await Promise.allSettled(this.slots.startCore());
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await this.terminate();
      throw failed.reason;
    }
  }

  /** How new workers load the app: "compiled" for a TypeScript app compiled once by this thread, "plain" for JavaScript (see ModuleLoader). */
  get moduleLoader(): ModuleLoader {
    return this.slots.moduleLoader;
  }

  /** Workers in the pool now, the ones starting included: the core, and growth above it. */
  get size(): number {
    return this.slots.size;
  }

  /** Workers that have loaded the app and can take tasks (fewer than `size` while some start). */
  get ready(): number {
    return this.slots.all.filter((w) => w?.ready).length;
  }

  /** Workers with at least one task. */
  get busy(): number {
    return this.dispatch.busy;
  }

  get queued(): number {
    return this.queue.waiting;
  }

  /** False while no worker is ready and replacements keep failing to start: tasks are refused at once. */
  get available(): boolean {
    return this.slots.available;
  }

  /** Runs `target` of `kind` on a free worker; resolves with its value and timings. */
  run<T = unknown>(kind: TaskKind, target: number | string, payload: unknown, options: RunOptions = {}): Promise<TaskOutcome<T>> {
    const refusal = this.refusal(kind, target);
    if (refusal) return Promise.reject(refusal);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(new TaskCancelledError(false, 0));
    return new Promise<TaskOutcome>((resolve, reject) => {
      const timing = this.timings.of(kind, target);
      const enqueuedAt = now();
      const task: PendingTask = {
        id: this.nextTaskId++,
        kind,
        target,
        payload,
        enqueuedAt,
        dispatchedAt: 0,
        fast: options.timeoutMs === undefined && TaskTimings.isFast(timing),
        quick: TaskTimings.isQuick(timing),
        state: "queued",
        retried: false,
        timer: undefined,
        maxWaitMs: this.budget.limitMs(this.queue, enqueuedAt),
        estimateMs: timing?.averageMs ?? this.timings.typicalMs,
        signal,
        onAbort: undefined,
        context: options.context,
        resolve,
        reject,
      };
      if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
        task.timer = setTimeout(() => this.dispatch.expire(task, options.timeoutMs!), options.timeoutMs);
      }
      if (signal) {
        task.onAbort = () => this.dispatch.cancel(task);
        signal.addEventListener("abort", task.onAbort, { once: true });
      }
      this.queue.push(task);
      this.dispatch.pump();
      if (this.queue.waiting > 0) this.elastic.workWaits();
    }) as Promise<TaskOutcome<T>>;
  }

  /** Why a new task cannot be taken now, or undefined. */
  private refusal(kind: TaskKind, target: number | string): Error | undefined {
    if (this.dispatch.closing) return new PoolClosedError("the worker pool is shutting down");
    if (!this.slots.available) return this.slots.unavailableError();
    if (!this.quarantine.empty) {
      const refused = this.quarantine.refusal(kind, target, performance.now());
      if (refused) return refused;
    }
    if (this.queue.waiting === 0) return undefined;
    if (this.queue.waiting >= this.maxQueue) {
      return shedError(() => new PoolFullError(`all ${this.size} workers are busy and ${this.queue.waiting} tasks are queued`));
    }
    const at = now();
    return this.budget.refusal(this.queue, this.dispatch.heldWorkMs(at), this.capacity(), at);
  }

  /**
   * The workers that will share the queued work: the room to grow counts unless the busy ones
   * were found computing. Before the first look, a burst is given the benefit of the doubt: if
   * it is CPU-bound, the tasks admitted too many are refused by their wait limit, never later.
   */
  private capacity(): number {
    return this.elastic.blocked === false ? this.size : this.maxSize;
  }

  /** The refusal of a task that waited past its limit by its turn (it never runs), or undefined. */
  private lateRefusal(task: PendingTask, at: number): Error | undefined {
    const waitedMs = at - task.enqueuedAt;
    return waitedMs <= task.maxWaitMs ? undefined : this.budget.late(this.queue, waitedMs, task.maxWaitMs, at);
  }

  /** Stops taking tasks, lets queued and running ones finish, then ends the workers. */
  async close(): Promise<void> {
    this.dispatch.closing = true;
    this.elastic.stop(); // no growth while draining; queued tasks still meet their wait limits at their turn
    await this.dispatch.drained();
    await this.terminate();
  }

  /** Ends every worker now; running and queued tasks fail. */
  async terminate(): Promise<void> {
    this.dispatch.closing = true;
    this.elastic.stop();
    this.dispatch.rejectQueued(new PoolClosedError("the worker pool was terminated"));
    await this.slots.terminate();
    this.dispatch.notifyDrained();
  }

  /**
   * A worker died. For each task it held, its progress mark tells what happened: a task it
   * had finished but whose result was lost fails (it must not run twice), the one it was running
   * fails, and the ones it never started go back to the front of the queue, once.
   */
  private onDied(worker: WorkerState, exitCode: number, error: Error | undefined, replaced: boolean): void {
    this.idle.remove(worker);
    const { requeue, failed, running } = heldTasksAtExit(worker, error ? `${error.name}: ${error.message}` : `exit code ${exitCode}`);
    for (const [task, crash] of failed) this.dispatch.finish(task).reject(crash);
    if (running && !worker.strayError) this.quarantine.crashed(running.kind, running.target, performance.now());
    const hadTask = running !== undefined || worker.stoppedForTimeout;
    this.queue.pushFront(requeue);
    if (!this.dispatch.closing) {
      const stray = worker.strayError !== undefined;
      const reason = worker.stoppedForTimeout ? "timeout" : "crash";
      this.options.onWorkerExit?.({ slot: worker.slot, reason, exitCode, error, hadTask, stray, replaced });
    }
    this.dispatch.pump();
  }
}
