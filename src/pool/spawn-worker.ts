// Starting one pool worker and wiring its messages to the pool, apart from the scheduling.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker, type ResourceLimits } from "node:worker_threads";
import type { CompiledModules } from "./compile-app.js";
import { flagsWithoutTsx, type ModuleLoader } from "./module-loader.js";
import { compareSignatures } from "./compare-signatures.js";
import { PoolStartupError } from "./pool-errors.js";
import type { PoolOptions } from "./pool-options.js";
import type { SerializedError, TaskResult, WorkerStartData, WorkerToMain } from "./protocol.js";
import { WorkerState } from "./worker-state.js";

// "../pool/" so it resolves from dist/chunks/ too, where the bundle puts this code.
const workerEntry = new URL("../pool/worker-entry.js", import.meta.url);
/** Run from its TypeScript sources (some tests), the package's own worker entry needs tsx too. */
const workerEntryNeedsTsx = !existsSync(fileURLToPath(workerEntry));

export interface SpawnOptions {
  moduleUrl: string;
  exportName?: string;
  appIndex: number;
  niceness: number;
  resourceLimits?: ResourceLimits;
  sharedBuffers: Record<string, SharedArrayBuffer>;
  /** The main thread's view of the app; the worker must report the same. */
  signature: string[];
  loader: ModuleLoader;
  compiled?: CompiledModules;
  onLog?: PoolOptions["onLog"];
  logLevel?: number;
}

/** What a worker is started with, from the pool's options (but how it loads the app, which the slots choose). */
export function spawnOptionsOf(options: PoolOptions): Omit<SpawnOptions, "loader" | "compiled"> {
  return {
    moduleUrl: options.moduleUrl,
    exportName: options.exportName,
    appIndex: options.appIndex ?? 0,
    niceness: options.niceness ?? 0,
    resourceLimits: options.resourceLimits,
    sharedBuffers: options.sharedBuffers?.() ?? {},
    signature: options.signature,
    onLog: options.onLog,
    logLevel: options.onLog === undefined ? undefined : (options.logLevel ?? 30),
  };
}

export interface WorkerEvents {
  ready(state: WorkerState): void;
  results(state: WorkerState, results: TaskResult[]): void;
  /** The worker is gone; `error` is what it died of, when known. */
  exit(state: WorkerState, exitCode: number, error: Error | undefined, wasReady: boolean): void;
}

/** Starts a worker in `slot`; resolves once it loaded the same app, rejects if it could not. */
export function spawnWorker(slot: number, options: SpawnOptions, events: WorkerEvents): { state: WorkerState; started: Promise<void> } {
  // [id of the task the worker last started, id of the last task cancelled while it held it, id of the task it last finished]
  const progress = new SharedArrayBuffer(12);
  const data: WorkerStartData = {
    moduleUrl: options.moduleUrl,
    exportName: options.exportName,
    appIndex: options.appIndex,
    loader: options.loader,
    compiled: options.compiled,
    slot,
    niceness: options.niceness,
    logLevel: options.logLevel,
    sharedBuffers: options.sharedBuffers,
    progress,
  };
  const worker = createWorker(data, options);
  const state = new WorkerState(slot, worker, progress);
  const started = new Promise<void>((resolve, reject) => {
    let lastError: Error | undefined;
    worker.on("message", (message: WorkerToMain) => {
      switch (message.type) {
        case "results":
          return events.results(state, message.results);
        case "log":
          return options.onLog?.(slot, message.record);
        case "crashed":
          state.strayError = revive(message.error);
          return;
        case "ready": {
          const mismatch = compareSignatures(options.signature, message.signature);
          if (mismatch) {
            // It must not linger half-started: its exit counts as a failed start.
            void worker.terminate();
            return reject(new PoolStartupError(`worker#${slot} loaded a different app: ${mismatch}`));
          }
          state.ready = true;
          state.tid = message.tid;
          state.signature = message.signature;
          resolve();
          return events.ready(state);
        }
        case "startup-failed": {
          const error = new PoolStartupError(`worker#${slot} could not load the app from ${options.moduleUrl}: ${message.error.message}`);
          error.stack = `${error.name}: ${error.message}\n${message.error.stack ?? ""}`;
          return reject(error);
        }
      }
    });
    worker.on("error", (error) => {
      lastError = error;
    });
    worker.on("exit", (exitCode) => {
      const wasReady = state.ready;
      state.ready = false;
      const error = state.strayError ?? lastError;
      reject(error ?? new PoolStartupError(`worker#${slot} exited with code ${exitCode} while starting`));
      events.exit(state, exitCode, error, wasReady);
    });
  });
  return { state, started };
}

/** The flags of workers that need no loader, once known to be valid for workers; undefined: inherit the main thread's. */
let flagsNoLoader: string[] | undefined | null = null;

function createWorker(data: WorkerStartData, options: SpawnOptions): Worker {
  const create = (execArgv: string[] | undefined) =>
    new Worker(workerEntry, { workerData: data, resourceLimits: options.resourceLimits, name: `loopwise worker#${data.slot}`, execArgv });
  if (options.loader === "tsx" || workerEntryNeedsTsx) return create(undefined);
  if (flagsNoLoader === null) {
    const flags = flagsWithoutTsx(process.execArgv);
    // Inherited unless a loader flag is to be left out: given explicitly, process-wide flags (--expose-gc) are refused.
    if (flags.length === process.execArgv.length) flagsNoLoader = undefined;
    else {
      try {
        const worker = create(flags);
        flagsNoLoader = flags;
        return worker;
      } catch (error) {
        if ((error as { code?: string }).code !== "ERR_WORKER_INVALID_EXEC_ARGV") throw error;
        // "...invalid execArgv flags: --expose-gc, --foo": those the worker inherits anyway, or does without.
        const invalid = new Set(((error as Error).message.split(": ")[1] ?? "").split(", "));
        flagsNoLoader = flags.filter((flag) => !invalid.has(flag) && !invalid.has(flag.split("=")[0]!));
      }
    }
  }
  return create(flagsNoLoader);
}

function revive(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.stack) error.stack = serialized.stack;
  return error;
}
