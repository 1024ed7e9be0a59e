// The messages the main thread and a pool worker exchange, typed in one place.
// Nothing here knows about HTTP: a task is "run target N of kind K with this payload".
import { inspect } from "node:util";
import type { CompiledModules } from "./compile-app.js";
import type { ModuleLoader } from "./module-loader.js";

/** What a task asks the worker to run. The host inside the worker gives each kind its meaning. */
export const TaskKind = {
  /** A registered route handler (payload: the request as plain data). */
  Route: 0,
  /** A function registered with `blocking()` and called through `offload()` (payload: its arguments). */
  Blocking: 1,
  /** A registered dependency, run for a caller on the main thread (payload: its inputs; its value is sent back). */
  Dependency: 2,
} as const;
export type TaskKind = (typeof TaskKind)[keyof typeof TaskKind];

export interface TaskMessage {
  /** Id of the task, unique per pool. */
  id: number;
  kind: TaskKind;
  /** The route's id (registration order) or the blocking function's key. */
  target: number | string;
  payload: unknown;
  /** Set when the caller may cancel it: the worker then makes an AbortSignal for it. */
  abortable?: true;
  /** The caller's opaque context, when it gave one. */
  context?: unknown;
}

/** Main → worker: one message per tick carries every task dispatched to that worker. */
export interface TaskBatchMessage {
  type: "tasks";
  tasks: TaskMessage[];
}

/**
 * Main → worker: the caller cancelled task `id`, which the worker holds. Not started yet: it
 * is skipped. Running: its signal fires (an async handler hears it at its next await; a plain
 * one sees `signal.aborted` through the shared abort mark, since no message reaches a thread
 * that is busy).
 */
export interface AbortMessage {
  type: "abort";
  id: number;
}

/** Worker → main, once, after the app module is imported. */
export interface ReadyMessage {
  type: "ready";
  /** The worker's view of the app: one line per route and blocking function. */
  signature: string[];
  /** The worker's OS thread id (Linux), so the pool can see whether it is blocked or computing. */
  tid?: number;
}

/** Worker → main when the app module could not be loaded. */
export interface StartupFailedMessage {
  type: "startup-failed";
  error: SerializedError;
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

export interface TaskResult {
  id: number;
  ok: boolean;
  /** The task's value when ok, else a SerializedError. */
  value: unknown;
  /** When the worker started it, epoch ms (performance.timeOrigin + now): its queue wait ends here. */
  startedAt: number;
  /** Time the task ran inside the worker, in ms. */
  runMs: number;
  /** The task was cancelled before it started and never ran. */
  cancelled?: true;
}

/** Worker → main: the results of the tasks that finished in one stretch of work, in one message. */
export interface TaskResultsMessage {
  type: "results";
  results: TaskResult[];
}

/**
 * Worker → main, just before the worker exits on an error nothing caught (a timer that threw,
 * a promise rejected with no handler): it was left behind by earlier work, not by a task's own
 * call, so the crash is the worker's and the task running then is not to blame.
 */
export interface CrashedMessage {
  type: "crashed";
  error: SerializedError;
}

/** Where a thread keeps its sink for the app's log lines (src/log/app-log.ts): one per thread, whichever copy of the modules set it. */
export const appLogSinkKey = Symbol.for("loopwise.appLogSink");

/** Log fields as JSON can write them, each on its own: a BigInt as text, a field with a cycle (or a throwing getter) as a note saying so. */
export function jsonSafeFields(fields: Record<string, unknown>): Record<string, unknown> {
  const safe: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) {
    try {
      const text = JSON.stringify(fields[key], (_key, value) => (typeof value === "bigint" ? String(value) : value));
      if (text !== undefined) safe[key] = JSON.parse(text);
    } catch (error) {
      safe[key] = `[not written: ${String((error as Error)?.message ?? error).split("\n")[0]}]`;
    }
  }
  return safe;
}

/** Worker → main: a line the app logged in this worker, for the server's log (which adds the worker's id). */
export interface LogMessage {
  type: "log";
  record: { level: number; time: number; msg: string; fields: Record<string, unknown> };
}

export type WorkerToMain = ReadyMessage | StartupFailedMessage | TaskResultsMessage | CrashedMessage | LogMessage;
export type MainToWorker = TaskBatchMessage | AbortMessage;

/** Data handed to every worker at creation. */
export interface WorkerStartData {
  /** URL of the module that defines the app. */
  moduleUrl: string;
  /** Named export holding the app, when known (the CLI's `module:app`). */
  exportName?: string;
  /** Index among the apps created by that module, when the export name is not known. */
  appIndex: number;
  /** How to load the module (see ModuleLoader). */
  loader: ModuleLoader;
  /** For the "compiled" loader: the compiled app to import instead of `moduleUrl`. */
  compiled?: CompiledModules;
  /** The app's log lines below this level are dropped in the worker (pino's numbers); none are sent without it. */
  logLevel?: number;
  /** 1-based slot number, used in log lines (`worker#2`). */
  slot: number;
  /** OS niceness increment applied to the worker's own thread. */
  niceness: number;
  /** Shared memory the main thread created, by registration key. */
  sharedBuffers: Record<string, SharedArrayBuffer>;
  /**
   * Three Int32s: the id of each task the worker starts, written by the worker (see WorkerState);
   * the id of the last task cancelled while the worker held it, written by the main thread; and
   * the id of each task the worker finishes, written by the worker.
   */
  progress: SharedArrayBuffer;
}

/**
 * What the app gives the worker entry: the worker entry calls it without knowing what it is.
 * Found on the app object under the `hostKey` symbol (identity.ts).
 */
export interface TaskHost {
  signature(): string[];
  /** Runs the app's per-worker start hooks (open a per-worker connection there) before the worker takes tasks. */
  start(slot: number): void | Promise<void>;
  /**
   * Runs one task. `signal` is given when the caller can cancel the task; `context` is the
   * caller's opaque value (request context crossing the lanes), when it gave one.
   */
  run(kind: TaskKind, target: number | string, payload: unknown, signal?: AbortSignal, context?: unknown): unknown;
  /** How an error a task threw crosses back: the host's own form, plain data that extends SerializedError (serializeError when absent). */
  encodeError?(error: unknown): SerializedError;
}

/**
 * The error as plain strings, safe to clone to another thread and to log. It never throws,
 * whatever was thrown: an Error whose getters throw, a null-prototype object, a Symbol,
 * `undefined`, a Proxy. A value that is not an Error is described with `util.inspect`.
 *
 *     serializeError(Object.assign(Object.create(null), { a: "1" }))
 *     // → { name: "NonError", message: "a value that is not an Error: [Object: null prototype] { a: '1' }" }
 */
export function serializeError(error: unknown): SerializedError {
  let isError = false;
  try {
    isError = error instanceof Error;
  } catch {
    // A Proxy whose getPrototypeOf trap throws (or a revoked one): not an Error we can read.
  }
  if (isError) {
    try {
      const { name, message, stack } = error as Error;
      return { name: String(name), message: String(message), stack: typeof stack === "string" ? stack : undefined };
    } catch {
      return { name: "Error", message: `an Error whose name, message or stack cannot be read: ${describeValue(error)}` };
    }
  }
  return { name: "NonError", message: `a value that is not an Error: ${describeValue(error)}` };
}

/** A short, safe description of any value for a log line (never throws, at most ~1000 characters). */
export function describeValue(value: unknown): string {
  try {
    const text = inspect(value, { depth: 2, maxArrayLength: 10, maxStringLength: 200, breakLength: Infinity, customInspect: false });
    return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
  } catch {
    try {
      return `${Object.prototype.toString.call(value)} (it cannot be inspected)`;
    } catch {
      return `a value of type ${typeof value} that cannot be described`;
    }
  }
}
