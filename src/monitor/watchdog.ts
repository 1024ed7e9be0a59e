// A small thread that watches the main thread's heartbeat. While the loop is blocked it samples
// what the main thread is running, so the main thread can name the culprit once it is free, and
// it reports a block that goes on and on itself: it writes straight to fd 2, since console
// output of any thread passes through the blocked main thread.
import { writeSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { workerData } from "node:worker_threads";
import { Slot, type WatchdogData } from "./shared-slots.js";

const data = workerData as WatchdogData;
const slots = new Int32Array(data.buffer);
const pollMs = Math.max(1, Math.min(20, data.thresholdMs / 5));
const sampleAfterMs = data.thresholdMs / 2;

function reportStuck(route: number, staleMs: number): void {
  const culprit = route > 0 ? (data.routeLabels[route - 1] ?? "a route") : "code outside any request";
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
let sampled = false;
let reported = false;
while (Atomics.load(slots, Slot.Stop) === 0) {
  Atomics.wait(slots, Slot.Stop, 0, pollMs);
  const now = performance.now();
  const beat = Atomics.load(slots, Slot.Heartbeat);
  if (beat !== heartbeat) {
    heartbeat = beat;
    changedAt = now;
    sampled = false;
    reported = false;
    continue;
  }
  const stale = now - changedAt;
  if (stale < sampleAfterMs) continue;
  const route = Atomics.load(slots, Slot.Route);
  const request = Atomics.load(slots, Slot.Request);
  if (!sampled) {
    Atomics.store(slots, Slot.CaughtRoute, route);
    Atomics.store(slots, Slot.CaughtRequest, request);
    Atomics.store(slots, Slot.CaughtMixed, 0);
    Atomics.store(slots, Slot.Caught, 1);
    sampled = true;
  } else if (request !== Atomics.load(slots, Slot.CaughtRequest) || route !== Atomics.load(slots, Slot.CaughtRoute)) {
    Atomics.store(slots, Slot.CaughtMixed, 1);
  }
  if (!reported && stale >= data.stuckAfterMs) {
    reported = true;
    reportStuck(route, stale);
  }
}
