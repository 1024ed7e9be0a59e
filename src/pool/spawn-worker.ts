// Starting one pool worker and wiring its messages to the pool, apart from the scheduling.
import { Worker, type ResourceLimits } from "node:worker_threads";
import { compareSignatures } from "./compare-signatures.js";
import { PoolStartupError } from "./pool-errors.js";
import type { PoolOptions } from "./pool-options.js";
import type { SerializedError, TaskResult, WorkerStartData, WorkerToMain } from "./protocol.js";
import { WorkerState } from "./worker-state.js";

const workerEntry = new URL("./worker-entry.js", import.meta.url);

export interface SpawnOptions {
  moduleUrl: string;
  exportName?: string;
  appIndex: number;
  niceness: number;
  resourceLimits?: ResourceLimits;
  sharedBuffers: Record<string, SharedArrayBuffer>;
  /** The main thread's view of the app; the worker must report the same. */
  signature: string[];
  typeScript: "native" | "tsx";
}

/** What a worker is started with, from the pool's options (but the TypeScript loader, which the slots choose). */
export function spawnOptionsOf(options: PoolOptions): Omit<SpawnOptions, "typeScript"> {
  return {
    moduleUrl: options.moduleUrl,
    exportName: options.exportName,
    appIndex: options.appIndex ?? 0,
    niceness: options.niceness ?? 0,
    resourceLimits: options.resourceLimits,
    sharedBuffers: options.sharedBuffers?.() ?? {},
    signature: options.signature,
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
  // [id of the task the worker last started, id of the last task cancelled while it held it]
  const progress = new SharedArrayBuffer(8);
  const data: WorkerStartData = {
    moduleUrl: options.moduleUrl,
    exportName: options.exportName,
    appIndex: options.appIndex,
    typeScript: options.typeScript,
    slot,
    niceness: options.niceness,
    sharedBuffers: options.sharedBuffers,
    progress,
  };
  const worker = new Worker(workerEntry, { workerData: data, resourceLimits: options.resourceLimits, name: `loopwise worker#${slot}` });
  const state = new WorkerState(slot, worker, progress);
  const started = new Promise<void>((resolve, reject) => {
    let lastError: Error | undefined;
    worker.on("message", (message: WorkerToMain) => {
      switch (message.type) {
        case "results":
          return events.results(state, message.results);
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

function revive(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.stack) error.stack = serialized.stack;
  return error;
}
