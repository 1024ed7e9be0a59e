// The memory the main thread and the watchdog share. The main thread writes what it is running;
// the watchdog reads it while the main thread is stuck and cannot answer anything else.
import type { MessagePort } from "node:worker_threads";

/** Indexes into the Int32Array over the shared buffer. */
export const Slot = {
  /** Bumped by the main thread every tick; a value that stops moving means a blocked loop. */
  Heartbeat: 0,
  /** Route id + 1 whose code the main thread is running now (0: none). */
  Route: 1,
  /** Request number whose code the main thread is running now (0: none). */
  Request: 2,
  /** Set by the watchdog once it has sampled the current block (its findings are complete). */
  Caught: 3,
  CaughtRoute: 4,
  CaughtRequest: 5,
  /** Set when samples of one block disagree: many callbacks, not one handler, held the loop. */
  CaughtMixed: 6,
  /** Set by the main thread to end the watchdog. */
  Stop: 7,
} as const;

export const slotCount = 8;

export interface WatchdogData {
  buffer: SharedArrayBuffer;
  /** Where to post each WatchdogSample. */
  samples: MessagePort;
  /** Whether the watchdog may pause the main thread to read its stack. */
  sampleStacks: boolean;
  thresholdMs: number;
  /** A block still going after this long is reported while it happens. */
  stuckAfterMs: number;
  /** "GET /async/sleep" for each route id. */
  routeLabels: string[];
  /** Where route handlers and dependencies are defined ("scriptId:line:column"), to find them on a stack. */
  codeLocations: (string | undefined)[];
  /** For each of those, the route id it belongs to, or -1 when shared by several routes. */
  codeRoutes: number[];
  format: "text" | "json";
}

/** A stack frame as the inspector gives it: positions in the code V8 runs (0-based). */
export interface SampledFrame {
  url: string;
  lineNumber: number;
  columnNumber: number;
  functionName: string;
}

/** Watchdog → main thread: what it saw on the main thread's stack during a block. */
export interface WatchdogSample {
  /** The innermost frame of the app's own code. */
  frame: SampledFrame | undefined;
}
