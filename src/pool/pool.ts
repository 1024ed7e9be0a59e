// The worker pool: the mechanism that carries out the scheduling policy (policy/policy.ts) on
// real threads. The policy decides which task goes where, when the pool grows, sheds, retires
// and restarts; this file turns its commands into threads, messages and timers, and the
// threads' messages back into its events. Nothing here knows about HTTP: a task is "run target
// T of kind K with this payload".
import { performance } from "node:perf_hooks";
import { type BusyWorker, CpuMeter, WorkerThreadsMeter, workersLookBlocked } from "./cpu-meter.js";
import type { ModuleLoader } from "./module-loader.js";
import { type PendingTask, pendingTask } from "./pending-task.js";
import { type Look, type PolicyActions, PoolPolicy, type Role } from "./policy/policy.js";
import { describeRefusal, type Refusal } from "./policy/refusal.js";
import { type Instant, instant } from "./policy/time.js";
import {
  PoolClosedError,
  PoolFullError,
  PoolUnavailableError,
  shedError,
  TaskCancelledError,
  TaskCloneError,
  TaskError,
  TaskTimeoutError,
} from "./pool-errors.js";
import type { TaskKind, TaskResult } from "./protocol.js";
import { spawnOptionsOf } from "./spawn-worker.js";
import { heldTasksAtExit } from "./worker-exit.js";
import type { WorkerState } from "./worker-state.js";
import { WorkerThreads } from "./worker-threads.js";

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

const now = (): Instant => instant(performance.now());

/** The error a caller sees for a refusal of the policy. */
function refusalError(refusal: Refusal): Error {
  const message = describeRefusal(refusal);
  if (refusal.reason === "unavailable" || refusal.reason === "quarantined") {
    return shedError(() => new PoolUnavailableError(message, refusal.retryAfterSeconds));
  }
  return shedError(() => new PoolFullError(message, refusal.reason === "wait" ? refusal.retryAfterSeconds : 1));
}

/**
 * Worker threads behind one scheduling policy: a core that is always there, more while work
 * waits on blocked workers, a quick worker for short tasks stuck behind slow ones. A task is
 * refused at once when it would wait longer than the wait limit, and when it did wait longer by
 * its turn; the count bound (`maxQueue`) is only a memory cap.
 */
export class WorkerPool {
  readonly coreSize: number;
  readonly maxSize: number;
  private readonly policy: PoolPolicy<PendingTask>;
  private readonly threads: WorkerThreads;
  private readonly cpu = new CpuMeter();
  private readonly threadsMeter = new WorkerThreadsMeter();
  private nextTaskId = 1;
  private closing = false;
  private terminating = false;
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt: Instant | undefined;
  private drainWaiters: (() => void)[] = [];
  /** The error each slot's worker last exited with, for the restart-failed report. */
  private readonly exitErrors = new Map<number, Error>();
  /** While the core starts: each core worker's start. */
  private coreStarts: Promise<void>[] | undefined;
  /** What the first worker to load the app registered, as signature lines (every worker registers the same). */
  private workerSignature: ReadonlySet<string> | undefined;

  constructor(private readonly options: PoolOptions) {
    this.coreSize = options.size ?? defaultPoolSize();
    this.maxSize = options.maxSize ?? defaultMaxPoolSize(this.coreSize);
    this.policy = new PoolPolicy<PendingTask>(
      {
        coreSize: this.coreSize,
        maxSize: this.maxSize,
        maxQueue: options.maxQueue ?? 1024,
        maxQueueWaitMs: options.maxQueueWaitMs ?? defaultMaxQueueWaitMs,
        idleTimeoutMs: options.idleTimeoutMs ?? defaultIdleTimeoutMs,
        cores: this.cpu.cores,
      },
      this.actions(),
    );
    this.threads = new WorkerThreads(
      () => spawnOptionsOf(options),
      {
        ready: (worker) => {
          this.workerSignature ??= new Set(worker.signature);
          this.policy.workerReady(worker.slot, now());
        },
        results: (worker, results) => this.settleAll(worker, results),
        exited: (worker, exitCode, error) => this.onExit(worker, exitCode, error),
      },
      options,
    );
  }

  /** Starts the core workers and checks that each loaded the same app as the main thread. */
  async start(): Promise<void> {
    await this.threads.prepare();
    this.coreStarts = [];
    this.policy.start();
    const starts = this.coreStarts;
    this.coreStarts = undefined;
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await this.terminate();
      throw failed.reason;
    }
  }

  /** How new workers load the app: "compiled" for a TypeScript app compiled once by this thread, "plain" for JavaScript (see ModuleLoader). */
  get moduleLoader(): ModuleLoader {
    return this.threads.moduleLoader;
  }

  /** Workers in the pool now, the ones starting included: the core, and growth above it. */
  get size(): number {
    return this.policy.size;
  }

  /** Workers that have loaded the app and can take tasks (fewer than `size` while some start). */
  get ready(): number {
    return this.policy.ready;
  }

  /** Workers with at least one task. */
  get busy(): number {
    return this.policy.busy;
  }

  get queued(): number {
    return this.policy.queued;
  }

  /** False while no worker is ready and replacements keep failing to start: tasks are refused at once. */
  get available(): boolean {
    return this.policy.available;
  }

  /**
   * Whether this pool's workers registered `line` (a signature line, a blocking function's say)
   * on loading the app; true until one has loaded it. In a process that runs several apps (tests
   * with a TestClient each), this tells which pool can run a blocking function.
   */
  registered(line: string): boolean {
    return this.workerSignature?.has(line) ?? true;
  }

  /** Runs `target` of `kind` on a free worker; resolves with its value and timings. */
  run<T = unknown>(kind: TaskKind, target: number | string, payload: unknown, options: RunOptions = {}): Promise<TaskOutcome<T>> {
    if (this.closing) return Promise.reject(new PoolClosedError("the worker pool is shutting down"));
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(new TaskCancelledError(false, 0));
    return new Promise<TaskOutcome>((resolve, reject) => {
      const timeoutMs = options.timeoutMs !== undefined && options.timeoutMs > 0 ? options.timeoutMs : undefined;
      const task = pendingTask(
        this.nextTaskId++,
        this.policy.target(kind, target),
        payload,
        options.timeoutMs !== undefined,
        signal,
        options.context,
        resolve,
        reject,
      );
      const refusal = this.policy.arrive(task, now());
      if (refusal) return reject(refusalError(refusal));
      if (timeoutMs !== undefined) task.timer = setTimeout(() => this.expire(task, timeoutMs), timeoutMs);
      if (signal) {
        task.onAbort = () => this.cancel(task);
        signal.addEventListener("abort", task.onAbort, { once: true });
      }
    }) as Promise<TaskOutcome<T>>;
  }

  /** Stops taking tasks, lets queued and running ones finish, then ends the workers. */
  async close(): Promise<void> {
    this.closing = true;
    this.policy.close(); // no growth while draining; queued tasks still meet their wait limits at their turn
    if (!this.policy.drained) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    await this.terminate();
  }

  /** Ends every worker now; running and queued tasks fail. */
  async terminate(): Promise<void> {
    this.closing = true;
    this.terminating = true;
    this.policy.close();
    clearTimeout(this.timer);
    const error = new PoolClosedError("the worker pool was terminated");
    for (const task of this.policy.drainQueue()) this.settled(task).reject(error);
    await this.threads.terminate();
    this.notifyDrained();
  }

  // ---- the policy's commands -----------------------------------------------------------

  private actions(): PolicyActions<PendingTask> {
    return {
      start: (slot, role) => this.startWorker(slot, role),
      dispatch: (task, slot) => this.dispatch(task, slot),
      shed: (task, refusal) => this.settled(task).reject(refusalError(refusal)),
      retire: (slots) => this.threads.retire(slots),
      resized: (event) => this.options.onResize?.(event),
      restartFailed: (slot, attempt, retryInMs) => {
        const error = this.exitErrors.get(slot) ?? new Error("the worker exited while starting");
        this.options.onRestartFailed?.({ slot, attempt, retryInMs, error });
      },
      wakeAt: (at) => this.wakeAt(at),
    };
  }

  private startWorker(slot: number, role: Role): void {
    const started = this.threads.start(slot, role === "growth");
    if (started && this.coreStarts) this.coreStarts.push(started);
    else started?.catch(() => {});
  }

  private dispatch(task: PendingTask, slot: number): void {
    const worker = this.threads.of(slot)!;
    const message: (typeof worker.outbox)[number] = { id: task.id, kind: task.kind as TaskKind, target: task.target.id, payload: task.payload };
    if (task.signal) message.abortable = true;
    if (task.context !== undefined) message.context = task.context;
    worker.outbox.push(message);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Sends each worker the tasks it was given this turn, in one message. */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (const worker of this.threads.all) {
      if (!worker || worker.outbox.length === 0) continue;
      for (const [id, reason] of worker.sendOutbox()) {
        const task = this.policy.heldBy(worker.slot).find((t) => t.id === id);
        if (!task) continue;
        this.policy.withdrawn(task, now());
        this.settled(task).reject(new TaskCloneError(`its input could not be copied to a worker (${reason})`));
      }
    }
  };

  private wakeAt(at: Instant): void {
    if (this.timerAt !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    if (this.timerAt === undefined) this.cpu.reset();
    this.timerAt = at;
    this.timer = setTimeout(this.tick, Math.max(0, at - performance.now())).unref();
  }

  private readonly tick = (): void => {
    this.timer = this.timerAt = undefined;
    this.policy.tick(now(), this.look);
    this.notifyDrained();
  };

  /** What the busy workers are doing: from their threads where they can be seen, else from the process's CPU use. */
  private readonly look = (): Look => {
    const cpuShare = this.cpu.read();
    const busy: BusyWorker[] = [];
    for (const worker of this.threads.all) {
      const head = worker && this.policy.heldBy(worker.slot)[0];
      if (worker && head) busy.push([worker, head.id]);
    }
    const threads = this.threadsMeter.look(busy);
    return { cpuShare, threads, looksBlocked: threads === undefined && workersLookBlocked(cpuShare, this.cpu.cores) };
  };

  // ---- the threads' events -------------------------------------------------------------

  private settleAll(worker: WorkerState, results: TaskResult[]): void {
    const held = this.policy.heldBy(worker.slot);
    for (const result of results) {
      const task = held.find((t) => t.id === result.id);
      if (task) this.settle(worker, task, result); // else: timed out and already answered
    }
    this.policy.reported(worker.slot, now());
    this.notifyDrained();
  }

  private settle(worker: WorkerState, task: PendingTask, result: TaskResult): void {
    const queuedMs = Math.max(0, result.startedAt - (performance.timeOrigin + task.enqueuedAt));
    this.policy.finished(task, result.cancelled ? undefined : result.runMs, result.ok);
    this.settled(task);
    if (result.cancelled) {
      task.reject(new TaskCancelledError(false, queuedMs));
    } else if (result.ok) {
      (task.resolve as (outcome: TaskOutcome) => void)({ value: result.value, slot: worker.slot, queuedMs, runMs: result.runMs });
    } else if (task.signal?.aborted) {
      // It stopped because it was cancelled (or failed meanwhile): the caller asked to stop, so it is told that.
      task.reject(new TaskCancelledError(true, queuedMs));
    } else {
      task.reject(new TaskError(result.value as TaskError["serialized"], worker.slot, queuedMs, result.runMs));
    }
  }

  /**
   * A worker died. For each task it held, its progress mark tells what happened: a task it
   * had finished but whose result was lost fails (it must not run twice), the one it was running
   * fails, and the ones it never started go back to the queue, once.
   */
  private onExit(worker: WorkerState, exitCode: number, error: Error | undefined): void {
    const cause = error ? `${error.name}: ${error.message}` : `exit code ${exitCode}`;
    const { requeue, failed, running } = heldTasksAtExit(worker, this.policy.heldBy(worker.slot), cause);
    for (const [task, crash] of failed) this.settled(task).reject(crash);
    const wasReady = worker.startedUp;
    if (this.terminating) {
      const closed = new PoolClosedError("the worker pool was terminated");
      for (const task of requeue) this.settled(task).reject(closed);
      this.policy.exited(worker.slot, { wasReady, requeue: [], crashed: undefined }, now());
      return;
    }
    if (error) this.exitErrors.set(worker.slot, error);
    else this.exitErrors.set(worker.slot, new Error(`exit code ${exitCode}`));
    const core = worker.slot <= this.coreSize;
    const stray = worker.strayError !== undefined;
    this.policy.exited(worker.slot, { wasReady, requeue, crashed: stray ? undefined : running }, now());
    if (!this.closing) {
      const hadTask = running !== undefined || worker.stoppedForTimeout;
      const reason = worker.stoppedForTimeout ? "timeout" : "crash";
      this.options.onWorkerExit?.({ slot: worker.slot, reason, exitCode, error, hadTask, stray, replaced: core });
    }
    this.notifyDrained();
  }

  // ---- cancellation and time limits ----------------------------------------------------

  /**
   * A task's caller cancelled it. Still queued: it leaves the queue and never runs. Held by a
   * worker: taken back if not sent yet, else the worker is told and the task's signal fires.
   */
  private cancel(task: PendingTask): void {
    if (task.state === "queued") {
      this.policy.left(task);
      this.settled(task).reject(new TaskCancelledError(false, performance.now() - task.enqueuedAt));
    } else if (task.state === "held") {
      const worker = this.threads.of(task.slot);
      if (worker?.cancel(task.id)) {
        this.policy.withdrawn(task, now());
        this.settled(task).reject(new TaskCancelledError(false, task.dispatchedAt - task.enqueuedAt));
      }
    }
    this.notifyDrained();
  }

  /**
   * A task ran out of time. Still queued: it just leaves the queue. Running: its worker cannot
   * be interrupted, so it is terminated and replaced (a thread can be stopped; Python's cannot).
   */
  private expire(task: PendingTask, timeoutMs: number): void {
    if (task.state === "queued") {
      this.policy.left(task);
      this.settled(task).reject(new TaskTimeoutError(timeoutMs, undefined, timeoutMs));
    } else if (task.state === "held") {
      // A time-limited task never shares its worker, so stopping the worker stops only it.
      const worker = this.threads.of(task.slot)!;
      const queuedMs = task.dispatchedAt - task.enqueuedAt;
      this.policy.stopping(task.slot);
      worker.outbox = [];
      worker.ready = false;
      worker.stoppedForTimeout = true;
      this.settled(task).reject(new TaskTimeoutError(timeoutMs, worker.slot, queuedMs));
      void worker.worker.terminate();
    }
    this.notifyDrained();
  }

  /** Clears a settled task's timer and abort listener; returns it for chaining. */
  private settled(task: PendingTask): PendingTask {
    task.state = "settled";
    if (task.timer) clearTimeout(task.timer);
    if (task.onAbort) task.signal!.removeEventListener("abort", task.onAbort);
    return task;
  }

  private notifyDrained(): void {
    if (this.drainWaiters.length === 0 || !(this.policy.drained || this.terminating)) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
