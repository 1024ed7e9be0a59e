// What a pool is made with and what it reports: options, events, outcomes, defaults.
import { availableParallelism, totalmem } from "node:os";
import type { ResourceLimits } from "node:worker_threads";
import type { ModuleLoader } from "./module-loader.js";
import type { LogMessage } from "./protocol.js";

/**
 * The default pool size. CPU-bound handlers gain nothing from more workers than cores, while
 * handlers that block on I/O (a sync driver, sleepSync) gain from more. Workers run at a lower
 * OS priority than the loop, so a few more workers than cores costs the loop little:
 * twice the cores, at least 4, at most 16.
 */
export function defaultPoolSize(cores = availableParallelism()): number {
  return Math.min(16, Math.max(4, cores * 2));
}

/**
 * How far the pool may grow past its core while work waits on blocked workers: 40, anyio's
 * thread limit (what FastAPI runs plain handlers on), or the core if it is larger. Growth
 * happens only while the busy workers are blocked (sleep, sync I/O), never for CPU-bound work,
 * and each extra worker costs memory (about 10 MB for a JavaScript app; see docs/worker-lane.md).
 */
export function defaultMaxPoolSize(coreSize: number, cores = availableParallelism()): number {
  return Math.max(coreSize, Math.min(256, Math.max(40, cores * 4)));
}

/** A worker above the core that has been idle this long is retired (anyio prunes idle threads after 10 s). */
export const defaultIdleTimeoutMs = 10_000;

/**
 * The longest a task may wait for a worker, ms. The aim is that under any flood every request
 * gets its answer, 200 or 503, within about 10 s: half of that goes to waiting, the other half
 * to running. A task expected to wait longer is refused at once; one that waited longer by its
 * turn is refused then. Under sustained overload the limit drops to a tenth (see WaitBudget).
 */
export const defaultMaxQueueWaitMs = 5_000;

/**
 * The default heap cap of one worker, MB: a thirty-second of the machine's memory, between
 * 128 MB and 1 GB (768 MB on a 24 GiB machine). A runaway handler dies there, alone, instead of
 * growing to gigabytes and taking the process with it; a handler that needs more says so with
 * `--worker-memory`.
 */
export function defaultWorkerMemoryMb(): number {
  return Math.min(1024, Math.max(128, Math.floor(totalmem() / 2 ** 20 / 32)));
}

export interface PoolOptions {
  /** The core: workers started up front and always kept (default: `defaultPoolSize()`). */
  size?: number;
  /** Most workers the pool grows to while work waits on blocked workers (default: `defaultMaxPoolSize(size)`). */
  maxSize?: number;
  /** A worker above the core idle this long is retired, ms (default 10 s). */
  idleTimeoutMs?: number;
  /** Longest expected or actual wait for a worker before a task is refused, ms (default 5 s). */
  maxQueueWaitMs?: number;
  /** Where the app lives, so each worker can import it. */
  moduleUrl: string;
  exportName?: string;
  appIndex?: number;
  /** The main thread's view of the app; every worker must report the same. */
  signature: string[];
  /** OS niceness added to worker threads (0 keeps them equal to the loop). */
  niceness?: number;
  resourceLimits?: ResourceLimits;
  /** Tasks allowed to wait for a worker, a memory cap; one more is refused with PoolFullError (default 1024). */
  maxQueue?: number;
  /** Shared memory created in the main thread, handed to every worker (see shared-state.ts). */
  sharedBuffers?: () => Record<string, SharedArrayBuffer>;
  /** Told about workers that die, or are stopped after a timeout, and are replaced. */
  onWorkerExit?: (event: WorkerExitEvent) => void;
  /** Told each time a replacement worker fails to start, and when the next try comes. */
  onRestartFailed?: (event: RestartFailedEvent) => void;
  /** Gets the lines the app logs in a worker (`log`, `req.log`) at `logLevel` and above, with the worker's slot. */
  onLog?: (slot: number, record: LogMessage["record"]) => void;
  /** The least severe app log line a worker sends (pino's numbers; default 30, info). */
  logLevel?: number;
  /** Told when the pool grows past its core or shrinks back, with why. */
  onResize?: (event: PoolResizeEvent) => void;
  /** The ways workers may load the app, tried in order (default: the cheapest that applies, then the fallbacks; see ModuleLoader). For the bench and tests. */
  loaders?: ModuleLoader[];
}

export type PoolResizeEvent =
  | {
      kind: "grow";
      from: number;
      to: number;
      /** Tasks waiting for a worker when it grew. */
      waiting: number;
      /** The process's CPU use over the last interval, as a share of all cores (0–1). */
      cpuShare: number;
      cores: number;
    }
  | {
      /** The quick worker started, above the max: quick tasks waited while every worker held slower work. */
      kind: "quick";
      from: number;
      to: number;
      slot: number;
      waiting: number;
    }
  | {
      kind: "shrink";
      from: number;
      to: number;
      /** Workers retired. */
      retired: number;
      idleMs: number;
    };

export interface WorkerExitEvent {
  slot: number;
  /** "crash": it died by itself; "timeout": the pool stopped it because its task ran too long. */
  reason: "crash" | "timeout";
  exitCode: number;
  /** The error the worker died with, when it threw one. */
  error?: Error;
  /** Whether a task was running when it died (that task failed with WorkerCrashedError). */
  hadTask: boolean;
  /** The error was left behind by earlier work (a timer that threw), not by the running task. */
  stray: boolean;
  /** Whether another worker takes its slot: always for the core, never above it (growth starts workers again if work waits). */
  replaced: boolean;
}

export interface RestartFailedEvent {
  slot: number;
  /** Failed starts in a row of this slot. */
  attempt: number;
  retryInMs: number;
  error: Error;
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

/**
 * What the pool needs of a cancel signal: an AbortSignal has it, and so can something cheaper
 * (making an AbortController per request costs more than a trivial task; see RequestData).
 */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

export interface RunOptions {
  /** Fail with TaskTimeoutError after this many ms from the call; a running task's worker is terminated. */
  timeoutMs?: number;
  /**
   * Cancels the task. Still waiting: it leaves the queue, never runs, and fails with
   * TaskCancelledError. Running: its worker cannot be interrupted, so the signal the task host
   * got fires (a handler that checks it can stop early); the task settles as it ends.
   */
  signal?: CancelSignal;
  /** An opaque value sent with the task (structured-cloned) and handed to the task host, such as request context. */
  context?: unknown;
}
