// What a pool is made with and what it reports: options, events, outcomes, defaults.
import { availableParallelism, totalmem } from "node:os";
import type { ResourceLimits } from "node:worker_threads";

/**
 * The default pool size. CPU-bound handlers gain nothing from more workers than cores, while
 * handlers that block on I/O (a sync driver, sleepSync) gain from more. Workers run at a lower
 * OS priority than the loop, so a few more workers than cores costs the loop little:
 * twice the cores, at least 4, at most 16.
 */
export function defaultPoolSize(): number {
  return Math.min(16, Math.max(4, availableParallelism() * 2));
}

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
  /** Told each time a replacement worker fails to start, and when the next try comes. */
  onRestartFailed?: (event: RestartFailedEvent) => void;
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
  /** The error was left behind by earlier work (a timer that threw), not by the running task. */
  stray: boolean;
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

export interface RunOptions {
  /** Fail with TaskTimeoutError after this many ms from the call; a running task's worker is terminated. */
  timeoutMs?: number;
}

