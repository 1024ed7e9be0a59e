// A small thread that watches the main thread's heartbeat. While the loop is blocked it notes
// which request's code the main thread is running (the main thread keeps that note in shared
// memory) and looks at its stack for where, so the main thread can name the culprit once it is
// free; and it reports a block that goes on and on itself: it writes straight to fd 2, since
// console output of any thread passes through the blocked main thread.
import { writeSync } from "node:fs";
import { hostname } from "node:os";
import { Session } from "node:inspector";
import { performance } from "node:perf_hooks";
import { workerData } from "node:worker_threads";
import { nativeAfterMs, Slot, type SampledFrame, type WatchdogData, type WatchdogSample } from "./shared-slots.js";

const data = workerData as WatchdogData;
const slots = new Int32Array(data.buffer);
const pollMs = Math.max(1, Math.min(20, data.thresholdMs / 5));
// A stall shorter than the threshold is no block: sampling it would cost the pause for nothing.
const sampleAfterMs = data.thresholdMs;
const nativeAfter = nativeAfterMs(data.thresholdMs);
/** Loopwise's own compiled code: never "where" a user's block is. */
const frameworkCode = new URL("../", import.meta.url).href;
/** Route id by where its code is defined; -1 where code of several routes is (a shared dependency, one handler factory). */
const routeByLocation = new Map<string, number>();
data.codeLocations.forEach((location, i) => {
  if (!location) return;
  const route = data.codeRoutes[i]!;
  const known = routeByLocation.get(location);
  routeByLocation.set(location, known === undefined || known === route ? route : -1);
});

interface CallFrame {
  functionName: string;
  url: string;
  location: { scriptId: string; lineNumber: number; columnNumber?: number };
  functionLocation?: { scriptId: string; lineNumber: number; columnNumber: number };
}

/** What a look at the stack found. */
interface Look {
  /** The route whose handler or dependency is on the stack (-1: shared by several routes). */
  routeId: number | undefined;
  /** The innermost frame of the app's own code. */
  frame: SampledFrame | undefined;
  /** When the main thread first answered: it takes the inspector's messages only between JavaScript statements. */
  answeredAt: number;
  /** The heartbeat and the note while the main thread was paused: what the look belongs to. */
  beat: number;
  route: number;
  request: number;
}

/**
 * Pauses the main thread for an instant and reads its stack: the first frame that is a route
 * handler names the route; the innermost frame of the app's own code says where. The debugger
 * is enabled only for this: an enabled debugger slows all JavaScript down (by a fifth in the
 * hello bench), while enabling it during a block lengthens only that block. All messages go
 * at once, so the pause lands as soon as the main thread takes its first interrupt.
 */
function lookAtStack(done: (look: Look | undefined) => void): void {
  const session = new Session();
  try {
    session.connectToMainThread();
  } catch {
    done(undefined);
    return;
  }
  const urls = new Map<string, string>();
  let answeredAt = 0;
  session.on("Debugger.scriptParsed", ({ params }) => urls.set(params.scriptId, params.url));
  session.once("Debugger.paused", ({ params }) => {
    const frames = params.callFrames as CallFrame[];
    // Read before resuming: once resumed, a starved watchdog may read the next block's.
    const beat = Atomics.load(slots, Slot.Heartbeat);
    const note = { route: Atomics.load(slots, Slot.Route), request: Atomics.load(slots, Slot.Request) };
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
    const frame = own && {
      url: urlOf(own),
      lineNumber: own.location.lineNumber,
      columnNumber: own.location.columnNumber ?? 0,
      functionName: own.functionName,
    };
    done({ routeId, frame, answeredAt, beat, ...note });
  });
  // The cheapest question first: its answer times when the main thread took the interrupt,
  // apart from what enabling the debugger then costs (much more the first time).
  session.post("Runtime.getIsolateId", () => (answeredAt = performance.now()));
  session.post("Debugger.enable");
  session.post("Debugger.pause");
}

/** `route`: id + 1 of the route found, 0 for none, -1 when nothing is known; `request`: non-zero for a request's code. */
function reportStuck(route: number, request: number, staleMs: number): void {
  const culprit =
    route > 0
      ? (data.routeLabels[route - 1] ?? "a route")
      : route < 0
        ? "something"
        : request !== 0
          ? "a request's code"
          : "code outside any request";
  const message =
    `${culprit} has been blocking the event loop for ${Math.round(staleMs)} ms and still is; ` +
    "no request on either lane can be answered until it returns.";
  if (data.format === "none") return;
  const time = Date.now();
  // pino's line, as the server's logger writes it (level 40: warning).
  const line =
    data.format === "json"
      ? JSON.stringify({
          level: 40,
          time,
          pid: process.pid,
          hostname: hostname(),
          event: "loop-blocked-now",
          msg: message,
          route: route > 0 ? culprit : null,
          blocked_ms: Math.round(staleMs),
        })
      : `${new Date(time).toISOString()} WARNING ${message}`;
  writeSync(2, line + "\n");
}

/** Whether findings about the block during heartbeat `beat` are written. */
function caughtDuring(beat: number): boolean {
  return Atomics.load(slots, Slot.Caught) === ((beat + 1) | 0);
}

/** Findings about the block during heartbeat `beat`; the main thread reads them once it ends. */
function caught(beat: number, route: number, request: number, lookedAtMs: number): void {
  Atomics.store(slots, Slot.CaughtRoute, route);
  Atomics.store(slots, Slot.CaughtRequest, request);
  Atomics.store(slots, Slot.CaughtMixed, 0);
  Atomics.store(slots, Slot.CaughtLookedAt, lookedAtMs);
  Atomics.store(slots, Slot.Caught, (beat + 1) | 0);
}

let heartbeat = Atomics.load(slots, Slot.Heartbeat);
let changedAt = performance.now();
/** Whether the current block has been noticed. */
let noticed = false;
/** A look at the stack is on its way (it may outlive its block when it waits for native code). */
let looking = false;
/** The heartbeat of a block that wants another look once the one on its way is back. */
let lookNext: number | undefined;
/** When the last look was asked for. */
let lookedAt = 0;
/** A look during the current block found its code's own place (a frame of the app's). */
let placed = false;
/**
 * Looks the current block may still take after one that found no place: it landed before the
 * culprit's own code ran (the code that loads or wires a WebSocket session first, say).
 */
const extraLooks = 3;
let looksLeft = extraLooks;
let reported = false;
/**
 * The last request's code the main thread's note named, as this thread read it: it began after
 * `noteFrom` (the poll before it was first read) and was first read at `noteSeen`.
 */
let noteRoute = 0;
let noteRequest = 0;
let noteFrom = performance.now();
let noteSeen = noteFrom;
let lastPoll = noteFrom;

/**
 * A block has just passed the threshold. The main thread's note says whose code runs: that
 * request is the culprit whatever the stack shows, and the look only says where (or that the
 * time goes to native code). With no note, the look at the stack is all there is.
 */
function notice(beat: number, route: number, request: number, staleMs: number): void {
  if (route !== 0 || request !== 0) caught(beat, route, request, data.sampleStacks ? Math.max(1, Math.round(staleMs)) : 0);
  if (data.sampleStacks) look(beat);
}

/**
 * Looks at the stack during the block at heartbeat `beat`. With a look still on its way (it
 * landed in the code that held the loop before the culprit's, say), this one follows it.
 */
function look(beat: number): void {
  if (looking) {
    lookNext = beat;
    return;
  }
  looking = true;
  const askedAt = performance.now();
  lookedAt = askedAt;
  lookAtStack((found) => {
    looking = false;
    const next = lookNext;
    lookNext = undefined;
    // An unchanged heartbeat while paused means the look landed inside the block. Otherwise the
    // main thread had judged the block already.
    if (found?.beat === beat) {
      // The note the block is pinned on by now: the one when it was noticed, or a request's that came after it (see the poll).
      const pinned = caughtDuring(beat);
      // The look landed in other code than the block's (the native call returned, its request ended).
      const sameCode =
        !pinned || (found.route === Atomics.load(slots, Slot.CaughtRoute) && found.request === Atomics.load(slots, Slot.CaughtRequest));
      const native = found.answeredAt - askedAt > nativeAfter;
      if (sameCode && found.frame && beat === heartbeat) placed = true;
      data.samples.postMessage({ beat, frame: sameCode ? found.frame : undefined, native } satisfies WatchdogSample);
      // -1: code of some request (shared by several routes), route unknown.
      if (!pinned) caught(beat, found.routeId === undefined || found.routeId < 0 ? 0 : found.routeId + 1, found.routeId === -1 ? -1 : 0, 0);
    }
    if (next !== undefined && Atomics.load(slots, Slot.Heartbeat) === next) look(next);
  });
}

/** Whether the block at heartbeat `beat` is pinned on a request's code yet. */
function pinnedOnRequest(beat: number): boolean {
  return caughtDuring(beat) && (Atomics.load(slots, Slot.CaughtRoute) !== 0 || Atomics.load(slots, Slot.CaughtRequest) !== 0);
}

const timer = setInterval(() => {
  if (Atomics.load(slots, Slot.Stop) === 1) return clearInterval(timer);
  const now = performance.now();
  const beat = Atomics.load(slots, Slot.Heartbeat);
  const route = Atomics.load(slots, Slot.Route);
  const request = Atomics.load(slots, Slot.Request);
  const noted = route !== 0 || request !== 0;
  if (noted && (route !== noteRoute || request !== noteRequest)) {
    // Another request's code runs now. If the block is pinned on the one before, and that one ran
    // less than the threshold (at most from the poll before it was first read until this one),
    // the block is many callbacks in a row, not one request's.
    if (
      pinnedOnRequest(beat) &&
      Atomics.load(slots, Slot.CaughtRoute) === noteRoute &&
      Atomics.load(slots, Slot.CaughtRequest) === noteRequest &&
      now - noteFrom < sampleAfterMs
    )
      Atomics.store(slots, Slot.CaughtMixed, 1);
    noteRoute = route;
    noteRequest = request;
    noteFrom = lastPoll;
    noteSeen = now;
  }
  lastPoll = now;
  if (beat !== heartbeat) {
    heartbeat = beat;
    changedAt = now;
    noticed = false;
    reported = false;
    placed = false;
    looksLeft = extraLooks;
    return;
  }
  const stale = now - changedAt;
  if (stale < sampleAfterMs) return;
  if (!noticed) {
    noticed = true;
    notice(beat, route, request, stale);
  } else if (noted && !pinnedOnRequest(beat) && now - Math.max(noteSeen, changedAt) >= sampleAfterMs) {
    // Code outside any request held the loop first (loading modules, a run of stream callbacks),
    // then this request's code, which alone has held it past the threshold: the block is its.
    notice(beat, route, request, stale);
  } else if (data.sampleStacks && !placed && !looking && looksLeft > 0 && now - lookedAt >= sampleAfterMs) {
    // The last look found no place of the app's own: the block goes on, so look again.
    looksLeft--;
    look(beat);
  }
  const known = caughtDuring(beat);
  if (!reported && stale >= data.stuckAfterMs) {
    reported = true;
    reportStuck(known ? Atomics.load(slots, Slot.CaughtRoute) : -1, known ? Atomics.load(slots, Slot.CaughtRequest) : 0, stale);
  }
}, pollMs);
