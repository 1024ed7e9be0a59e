// A small thread that watches the main thread's heartbeat. While the loop is blocked it samples
// what the main thread is running, so the main thread can name the culprit once it is free, and
// it reports a block that goes on and on itself: it writes straight to fd 2, since console
// output of any thread passes through the blocked main thread.
import { writeSync } from "node:fs";
import { Session } from "node:inspector";
import { performance } from "node:perf_hooks";
import { workerData } from "node:worker_threads";
import { Slot, type SampledFrame, type WatchdogData, type WatchdogSample } from "./shared-slots.js";

const data = workerData as WatchdogData;
const slots = new Int32Array(data.buffer);
const pollMs = Math.max(1, Math.min(20, data.thresholdMs / 5));
// A stall shorter than the threshold is no block: sampling it would cost the pause for nothing.
const sampleAfterMs = data.thresholdMs;
/** Loopwise's own compiled code: never "where" a user's block is. */
const frameworkCode = new URL("../", import.meta.url).href;
const routeByLocation = new Map<string, number>();
data.codeLocations.forEach((location, i) => location && routeByLocation.set(location, data.codeRoutes[i]!));

interface CallFrame {
  functionName: string;
  url: string;
  location: { scriptId: string; lineNumber: number; columnNumber?: number };
  functionLocation?: { scriptId: string; lineNumber: number; columnNumber: number };
}

/**
 * Pauses the main thread for an instant and reads its stack: the first frame that is a route
 * handler names the route; otherwise the innermost frame of the app's own code says where.
 * The debugger is enabled only for this: an enabled debugger slows all JavaScript down (by a
 * fifth in the hello bench), while enabling it during a block lengthens only that block.
 */
function sampleStack(done: (routeId: number | undefined, frame: SampledFrame | undefined) => void): void {
  const session = new Session();
  try {
    session.connectToMainThread();
  } catch {
    done(undefined, undefined);
    return;
  }
  const urls = new Map<string, string>();
  session.on("Debugger.scriptParsed", ({ params }) => urls.set(params.scriptId, params.url));
  session.once("Debugger.paused", ({ params }) => {
    const frames = params.callFrames as CallFrame[];
    session.post("Debugger.resume", () => session.post("Debugger.disable", () => session.disconnect()));
    let routeId: number | undefined;
    for (const frame of frames) {
      const fn = frame.functionLocation;
      routeId = fn && routeByLocation.get(`${fn.scriptId}:${fn.lineNumber}:${fn.columnNumber}`);
      if (routeId !== undefined) break;
    }
    const urlOf = (frame: CallFrame) => urls.get(frame.location.scriptId) ?? frame.url;
    const own = frames.find((frame) => {
      const url = urlOf(frame);
      return url.startsWith("file:") && !url.includes("/node_modules/") && !url.startsWith(frameworkCode);
    });
    done(
      routeId,
      own && { url: urlOf(own), lineNumber: own.location.lineNumber, columnNumber: own.location.columnNumber ?? 0, functionName: own.functionName },
    );
  });
  session.post("Debugger.enable", () => session.post("Debugger.pause"));
}

/** `route`: id + 1 of the route found, 0 for code outside any request, -1 when not looked at. */
function reportStuck(route: number, staleMs: number): void {
  const culprit = route > 0 ? (data.routeLabels[route - 1] ?? "a route") : route === 0 ? "code outside any request" : "something";
  const message =
    `${culprit} has been blocking the event loop for ${Math.round(staleMs)} ms and still is; ` +
    "no request on either lane can be answered until it returns.";
  const time = new Date().toISOString();
  const line =
    data.format === "json"
      ? JSON.stringify({ time, level: "WARNING", event: "loop-blocked-now", message, route: route > 0 ? culprit : null, blocked_ms: Math.round(staleMs) })
      : `${time} WARNING ${message}`;
  writeSync(2, line + "\n");
}

let heartbeat = Atomics.load(slots, Slot.Heartbeat);
let changedAt = performance.now();
/** "idle": no block; "sampling": a stack sample is on its way; "sampled": findings are in the slots. */
let state: "idle" | "sampling" | "sampled" | "unsampled" = "idle";
let reported = false;

function caught(route: number, request: number): void {
  Atomics.store(slots, Slot.CaughtRoute, route);
  Atomics.store(slots, Slot.CaughtRequest, request);
  Atomics.store(slots, Slot.CaughtMixed, 0);
  Atomics.store(slots, Slot.Caught, 1);
  state = "sampled";
}

const timer = setInterval(() => {
  if (Atomics.load(slots, Slot.Stop) === 1) return clearInterval(timer);
  const now = performance.now();
  const beat = Atomics.load(slots, Slot.Heartbeat);
  if (beat !== heartbeat) {
    heartbeat = beat;
    changedAt = now;
    if (state === "sampled" || state === "unsampled") state = "idle";
    reported = false;
    return;
  }
  const stale = now - changedAt;
  if (stale < sampleAfterMs || state === "sampling") return;
  const route = Atomics.load(slots, Slot.Route);
  const request = Atomics.load(slots, Slot.Request);
  if (state === "idle") {
    if (route !== 0 || request !== 0) {
      // A request's first synchronous stretch: the main thread noted it; nothing to pause.
      data.samples.postMessage({ frame: undefined } satisfies WatchdogSample);
      caught(route, request);
    } else if (!data.sampleStacks) {
      // Not allowed to look: the block stays "unknown" (reported as such when it ends).
      state = "unsampled";
    } else {
      state = "sampling";
      const blockBeat = beat;
      sampleStack((routeId, frame) => {
        data.samples.postMessage({ frame } satisfies WatchdogSample);
        // The pause landed after the block had ended: what it saw was other code.
        if (Atomics.load(slots, Slot.Heartbeat) !== blockBeat) state = "idle";
        // -1: code of some request (a shared dependency), route unknown.
        else caught(routeId === undefined || routeId < 0 ? 0 : routeId + 1, routeId === -1 ? -1 : 0);
      });
    }
  } else if (route !== Atomics.load(slots, Slot.CaughtRoute) || request !== Atomics.load(slots, Slot.CaughtRequest)) {
    // The note changed while the heartbeat stood still: many callbacks in a row, not one block.
    if (route !== 0 || request !== 0) Atomics.store(slots, Slot.CaughtMixed, 1);
  }
  if (!reported && stale >= data.stuckAfterMs && (state === "sampled" || state === "unsampled")) {
    reported = true;
    reportStuck(state === "sampled" ? Atomics.load(slots, Slot.CaughtRoute) : -1, stale);
  }
}, pollMs);
