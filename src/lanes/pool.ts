import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { Worker, type ResourceLimits } from "node:worker_threads";
import {
  type MainToWorker,
  type SerializedError,
  type TaskKind,
  type TaskMessage,
  type TaskResult,
  type WorkerStartData,
  type WorkerToMain,
} from "./messages.js";

/**
 * The default pool size. CPU-bound handlers gain nothing from more workers than cores, while
 * handlers that block on I/O (a sync driver, sleepSync) gain from more. Workers run at a lower
 * OS priority than the loop, so a few more workers than cores costs the loop little:
 * twice the cores, at least 4, at most 16.
 */
export function defaultPoolSize(): number {
  return Math.min(16, Math.max(4, availableParallelism() * 2));
}

export interface PoolOptions {
  size?: number;
  /** Where the app lives, so each worker can import it. */
  moduleUrl: string;
  exportName?: string;
  appIndex?: number;
  /** The main thread's view of the app; every worker must report the same. */
  signature: string[];
  /** OS niceness added to worker threads (0 keeps them equal to the loop). */
  niceness?: number;
  resourceLimits?: ResourceLimits;
  /** Tasks allowed to wait for a worker; one more is refused with PoolFullError (default 1024). */
  maxQueue?: number;
  /** Shared memory created in the main thread, handed to every worker (see shared-state.ts). */
  sharedBuffers?: () => Record<string, SharedArrayBuffer>;
  /** Told about workers that die, or are stopped after a timeout, and are replaced. */
  onWorkerExit?: (event: WorkerExitEvent) => void;
}

export interface WorkerExitEvent {
  slot: number;
  /** "crash": it died by itself; "timeout": the pool stopped it because its task ran too long. */
  reason: "crash" | "timeout";
  exitCode: number;
  /** The error the worker died with, when it threw one. */
  error?: Error;
  /** Whether a task was running when it died (that task failed with WorkerCrashedError). */
  hadTask: boolean;
}

export interface TaskOutcome<T = unknown> {
  value: T;
  /** 1-based worker slot that ran the task. */
  slot: number;
  /** Time spent waiting in the pool's queue, ms. */
  queuedMs: number;
  /** Time the task ran inside the worker, ms. */
  runMs: number;
}

/** A task whose function threw inside the worker. */
export class TaskError extends Error {
  override readonly name = "TaskError";
  constructor(
    readonly serialized: SerializedError,
    readonly slot: number,
    readonly queuedMs: number,
    readonly runMs: number,
  ) {
    super(serialized.message);
    this.stack = serialized.stack ?? this.stack;
  }
}

/** The worker running a task died (exit, uncaught error, out of memory). */
export class WorkerCrashedError extends Error {
  override readonly name = "WorkerCrashedError";
  constructor(
    message: string,
    readonly slot: number,
    readonly queuedMs: number,
  ) {
    super(message);
  }
}

/** The task did not finish within its time limit; if it was running, its worker was terminated. */
export class TaskTimeoutError extends Error {
  override readonly name = "TaskTimeoutError";
  constructor(
    readonly timeoutMs: number,
    /** The worker that was running it, or undefined if it never left the queue. */
    readonly slot: number | undefined,
    readonly queuedMs: number,
  ) {
    super(`task did not finish within ${timeoutMs} ms`);
  }
}

/** Every worker is busy and the queue is full: shed the load instead of growing without bound. */
export class PoolFullError extends Error {
  override readonly name = "PoolFullError";
}

/**
 * Builds a load-shedding error without capturing a stack: under a flood thousands are made in
 * one burst, the stack says nothing, and capturing it was the biggest cost of refusing work.
 */
export function shedError<E extends Error>(make: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The pool is closing and takes no new tasks. */
export class PoolClosedError extends Error {
  override readonly name = "PoolClosedError";
}

/** A worker could not load the app, or loaded a different one. */
export class PoolStartupError extends Error {
  override readonly name = "PoolStartupError";
}

interface PendingTask {
  id: number;
  kind: TaskKind;
  target: number | string;
  payload: unknown;
  /** Epoch ms (performance.timeOrigin + now), comparable with the worker's clock. */
  enqueuedAt: number;
  /** When it left the queue for a worker, epoch ms. */
  dispatchedAt: number;
  /** Its target is known to finish quickly, so it may wait in a busy worker's batch. */
  fast: boolean;
  state: "queued" | "running" | "settled";
  timer: NodeJS.Timeout | undefined;
  resolve: (outcome: TaskOutcome) => void;
  reject: (error: Error) => void;
}

export interface RunOptions {
  /** Fail with TaskTimeoutError after this many ms from the call; a running task's worker is terminated. */
  timeoutMs?: number;
}

interface Slot {
  slot: number;
  worker: Worker;
  ready: boolean;
  /** Tasks sent to this worker, in the order it runs them: the first is running. */
  inFlight: PendingTask[];
  /** How many of them are not fast; a worker holding one takes nothing more until it is idle. */
  slowInFlight: number;
  /** Tasks dispatched this tick, sent as one message when the tick ends. */
  outbox: TaskMessage[];
  /** Set when the pool terminates this worker because its task timed out. */
  stoppedForTimeout: boolean;
}

/** Running time of one target, smoothed, to tell fast targets (which may be batched) from slow ones. */
interface TargetTiming {
  samples: number;
  averageMs: number;
}

const workerEntry = new URL("./worker-entry.js", import.meta.url);
/** A worker that dies this many times in a row before becoming ready is not replaced again. */
const maxStartupFailures = 3;
/** A target is fast once it has run this many times averaging under `fastMs` (a trivial handler, not a quick query). */
const fastAfterSamples = 16;
const fastMs = 0.2;
/** Most tasks one worker holds at once (running plus waiting in its batch). */
const maxBatch = 16;
const now = () => performance.timeOrigin + performance.now();

/**
 * A fixed set of worker threads with one FIFO queue. Targets measured to be trivial join the
 * batch of a worker that is already awake (up to `maxBatch` each) before another is woken, which
 * saves messages and thread wake-ups; anything slow, unknown or time-limited waits here for an
 * idle worker, so a slow task never holds back another behind
 * it. Messages each way are sent once per tick per worker, carrying every task or result.
 */
export class WorkerPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly idle: Slot[] = [];
  private queue: PendingTask[] = [];
  private queueHead = 0;
  /** Tasks waiting for a worker (timed-out ones stay in `queue` until skipped, but not here). */
  private waiting = 0;
  private readonly maxQueue: number;
  private nextTaskId = 1;
  private closing = false;
  private drainWaiters: (() => void)[] = [];
  private startupFailures = 0;
  /** By kind, then target: no key strings built per task. */
  private readonly timings = new Map<TaskKind, Map<number | string, TargetTiming>>();
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
    return this.slots.filter((s) => s.ready).length;
  }

  /** Workers with at least one task. */
  get busy(): number {
    return this.slots.filter((s) => s.inFlight.length > 0).length;
  }

  get queued(): number {
    return this.waiting;
  }

  /** Runs `target` of `kind` on a free worker; resolves with its value and timings. */
  run<T = unknown>(kind: TaskKind, target: number | string, payload: unknown, options: RunOptions = {}): Promise<TaskOutcome<T>> {
    if (this.closing) return Promise.reject(new PoolClosedError("the worker pool is shutting down"));
    if (this.waiting >= this.maxQueue && this.idle.length === 0) {
      return Promise.reject(shedError(() => new PoolFullError(`all ${this.size} workers are busy and ${this.waiting} tasks are queued`)));
    }
    return new Promise<TaskOutcome>((resolve, reject) => {
      const timing = this.timings.get(kind)?.get(target);
      const task: PendingTask = {
        id: this.nextTaskId++,
        kind,
        target,
        payload,
        enqueuedAt: now(),
        dispatchedAt: 0,
        fast: options.timeoutMs === undefined && timing !== undefined && timing.samples >= fastAfterSamples && timing.averageMs < fastMs,
        state: "queued",
        timer: undefined,
        resolve,
        reject,
      };
      if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
        task.timer = setTimeout(() => this.expire(task, options.timeoutMs!), options.timeoutMs);
      }
      this.queue.push(task);
      this.waiting++;
      this.pump();
    }) as Promise<TaskOutcome<T>>;
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
    const closed = new PoolClosedError("the worker pool was terminated");
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const task = this.queue[i]!;
      if (task.state === "queued") this.finish(task).reject(closed);
    }
    this.queue = [];
    this.queueHead = 0;
    this.waiting = 0;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.notifyDrained();
  }

  private spawn(slotNumber: number): Promise<void> {
    const data: WorkerStartData = {
      moduleUrl: this.options.moduleUrl,
      exportName: this.options.exportName,
      appIndex: this.options.appIndex ?? 0,
      slot: slotNumber,
      niceness: this.options.niceness ?? 0,
      sharedBuffers: this.options.sharedBuffers?.() ?? {},
    };
    const worker = new Worker(workerEntry, {
      workerData: data,
      resourceLimits: this.options.resourceLimits,
      name: `loopwise worker#${slotNumber}`,
    });
    const slot: Slot = { slot: slotNumber, worker, ready: false, inFlight: [], slowInFlight: 0, outbox: [], stoppedForTimeout: false };
    this.slots[slotNumber - 1] = slot;

    return new Promise<void>((resolve, reject) => {
      let lastError: Error | undefined;
      worker.on("message", (message: WorkerToMain) => {
        switch (message.type) {
          case "results":
            for (const result of message.results) this.settle(slot, result);
            this.pump();
            return;
          case "ready": {
            const mismatch = compareSignatures(this.options.signature, message.signature);
            if (mismatch) {
              reject(new PoolStartupError(`worker#${slotNumber} loaded a different app: ${mismatch}`));
              return;
            }
            slot.ready = true;
            this.startupFailures = 0;
            this.idle.push(slot);
            resolve();
            this.pump();
            return;
          }
          case "startup-failed": {
            const error = new PoolStartupError(
              `worker#${slotNumber} could not load the app from ${this.options.moduleUrl}: ${message.error.message}`,
            );
            error.stack = `${error.name}: ${error.message}\n${message.error.stack ?? ""}`;
            reject(error);
            return;
          }
        }
      });
      worker.on("error", (error) => {
        lastError = error;
      });
      worker.on("exit", (exitCode) => {
        const wasReady = slot.ready;
        reject(lastError ?? new PoolStartupError(`worker#${slotNumber} exited with code ${exitCode} while starting`));
        this.onExit(slot, exitCode, lastError, wasReady);
      });
    });
  }

  private onExit(slot: Slot, exitCode: number, error: Error | undefined, wasReady: boolean): void {
    slot.ready = false;
    const idleIndex = this.idle.indexOf(slot);
    if (idleIndex >= 0) this.idle.splice(idleIndex, 1);
    // Tasks run one after another, so only the first had started; the rest go back to the queue's front.
    const [task, ...notStarted] = slot.inFlight.filter((t) => t.state === "running");
    slot.inFlight = [];
    slot.slowInFlight = 0;
    slot.outbox = [];
    for (const waiting of notStarted) waiting.state = "queued";
    this.waiting += notStarted.length;
    this.queue.splice(this.queueHead, 0, ...notStarted);
    if (task) {
      const reason = error ? `${error.name}: ${error.message}` : `exit code ${exitCode}`;
      this.finish(task).reject(new WorkerCrashedError(`worker#${slot.slot} died while running this task (${reason})`, slot.slot, task.dispatchedAt - task.enqueuedAt));
    }
    if (this.closing) {
      this.pump();
      this.notifyDrained();
      return;
    }
    this.options.onWorkerExit?.({
      slot: slot.slot,
      reason: slot.stoppedForTimeout ? "timeout" : "crash",
      exitCode,
      error,
      hadTask: task !== undefined || slot.stoppedForTimeout,
    });
    this.pump();
    if (!wasReady && !slot.stoppedForTimeout && ++this.startupFailures >= maxStartupFailures) return;
    // A replacement takes the same slot; start-up errors of replacements are reported by onExit.
    this.spawn(slot.slot).catch(() => {});
  }

  private settle(slot: Slot, result: TaskResult): void {
    const index = slot.inFlight.findIndex((t) => t.id === result.id);
    if (index < 0) return; // timed out and already answered
    const task = slot.inFlight[index]!;
    slot.inFlight.splice(index, 1);
    if (!task.fast) slot.slowInFlight--;
    if (slot.inFlight.length === 0) this.idle.push(slot);
    this.record(task, result.runMs);
    const queuedMs = Math.max(0, result.startedAt - task.enqueuedAt);
    this.finish(task);
    if (result.ok) task.resolve({ value: result.value, slot: slot.slot, queuedMs, runMs: result.runMs });
    else task.reject(new TaskError(result.value as SerializedError, slot.slot, queuedMs, result.runMs));
  }

  private record(task: PendingTask, runMs: number): void {
    let byTarget = this.timings.get(task.kind);
    if (!byTarget) this.timings.set(task.kind, (byTarget = new Map()));
    const timing = byTarget.get(task.target);
    if (!timing) byTarget.set(task.target, { samples: 1, averageMs: runMs });
    else {
      timing.samples++;
      timing.averageMs += (runMs - timing.averageMs) / Math.min(timing.samples, 32);
    }
  }

  private pump(): void {
    while (this.queueHead < this.queue.length) {
      const task = this.queue[this.queueHead]!;
      if (task.state !== "queued") {
        this.queueHead++; // timed out while waiting
        continue;
      }
      const slot = task.fast ? this.slotForFastTask() : this.idle.pop();
      if (!slot) break;
      this.queue[this.queueHead++] = undefined as unknown as PendingTask;
      task.state = "running";
      task.dispatchedAt = now();
      this.waiting--;
      slot.inFlight.push(task);
      if (!task.fast) slot.slowInFlight++;
      slot.outbox.push({ id: task.id, kind: task.kind, target: task.target, payload: task.payload });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    if (this.closing) this.notifyDrained();
  }

  /**
   * A fast task joins the least-loaded worker that is awake with only fast tasks and has room,
   * else wakes an idle one: waking a sleeping thread costs more than a trivial task.
   */
  private slotForFastTask(): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (!slot?.ready || slot.inFlight.length === 0 || slot.slowInFlight > 0 || slot.inFlight.length >= maxBatch) continue;
      if (!best || slot.inFlight.length < best.inFlight.length) best = slot;
    }
    return best ?? this.idle.pop();
  }

  /** Sends each worker the tasks it was given this tick, in one message. */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (const slot of this.slots) {
      if (!slot || slot.outbox.length === 0) continue;
      const message: MainToWorker = { type: "tasks", tasks: slot.outbox };
      slot.outbox = [];
      slot.worker.postMessage(message);
    }
  };

  /** Marks a task settled exactly once and clears its timer; returns it for chaining. */
  private finish(task: PendingTask): PendingTask {
    if (task.state === "queued") this.waiting--;
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
    const slot = this.slots.find((s) => s.inFlight.includes(task))!;
    slot.inFlight = [];
    slot.slowInFlight = 0;
    slot.ready = false;
    slot.stoppedForTimeout = true;
    this.finish(task).reject(new TaskTimeoutError(timeoutMs, slot.slot, task.dispatchedAt - task.enqueuedAt));
    void slot.worker.terminate();
  }

  private notifyDrained(): void {
    if (this.queued > 0 || this.busy > 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * Describes the first difference between the main thread's view of the app and a worker's, or
 * returns undefined. Routes must match one for one. Blocking functions and shared memory are
 * registered per thread, and the main thread may have imported other modules too, so each of the
 * worker's must simply exist in the main thread.
 */
export function compareSignatures(main: string[], worker: string[]): string | undefined {
  const isRoute = (line: string) => line.startsWith("route ");
  const mainRoutes = main.filter(isRoute);
  const workerRoutes = worker.filter(isRoute);
  const advice =
    "Routes, blocking functions and shared state must be registered the same way on every import of the app module " +
    "(no registration that depends on isMainThread, randomness or the environment).";
  for (let i = 0; i < Math.max(mainRoutes.length, workerRoutes.length); i++) {
    if (mainRoutes[i] !== workerRoutes[i]) {
      return `route ${i + 1} is ${describe(workerRoutes[i])} in the worker but ${describe(mainRoutes[i])} in the main thread. ${advice}`;
    }
  }
  const known = new Set(main);
  const unknown = worker.find((line) => !isRoute(line) && !known.has(line));
  return unknown === undefined ? undefined : `the worker registered "${unknown}", which the main thread did not. ${advice}`;
}

function describe(line: string | undefined): string {
  return line === undefined ? "missing" : `"${line}"`;
}
