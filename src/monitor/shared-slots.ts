// The memory the main thread and the watchdog share. The main thread writes what it is running;
// the watchdog reads it while the main thread is stuck and cannot answer anything else.
import type { MessagePort } from "node:worker_threads";

/** Indexes into the Int32Array over the shared buffer. */
export const Slot = {
  /** Bumped by the main thread every tick; a value that stops moving means a blocked loop. */
  Heartbeat: 0,
  /** Route id + 1 whose code the main thread is running now (0: none, or not routed yet). */
  Route: 1,
  /** Request number whose code the main thread is running now (0: none). */
  Request: 2,
  /** Heartbeat + 1 of the block the watchdog's findings below are about (0: none yet). */
  Caught: 3,
  CaughtRoute: 4,
  /** Request number, or -1 for "some request" (code shared by several routes). */
  CaughtRequest: 5,
  /** Set when samples of one block disagree: many callbacks, not one handler, held the loop. */
  CaughtMixed: 6,
  /** How far into the block (ms) the watchdog asked to see the stack; 0: it did not ask. */
  CaughtLookedAt: 7,
  /** Set by the main thread to end the watchdog. */
  Stop: 8,
} as const;

export const slotCount = 9;

/**
 * How long the main thread may take to answer the watchdog while it runs JavaScript: V8 takes
 * the inspector's interrupt at the next function call or loop turn, so within a few ms. An
 * answer that comes later, or not before the block ends, waited for native code that takes no
 * interrupts (JSON.parse, a synchronous crypto or fs call; zlib's synchronous calls return to
 * JavaScript between chunks, so they show as JavaScript, at their line). Generous, so that a
 * thread a busy machine did not schedule for a while does not pass for native code.
 */
export function nativeAfterMs(thresholdMs: number): number {
  return Math.max(100, thresholdMs);
}

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
  format: "text" | "json" | "none";
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
  /** The heartbeat during the block it is about: a look that lands late belongs to no later block. */
  beat: number;
  /** The innermost frame of the app's own code, when it belongs to the blocking code. */
  frame: SampledFrame | undefined;
  /** The look landed late: the time went to native code before it. */
  native: boolean;
}
