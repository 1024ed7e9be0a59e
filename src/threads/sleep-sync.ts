import { performance } from "node:perf_hooks";

const cell = new Int32Array(new SharedArrayBuffer(4));
/** Waits in slices: between them the thread can take an interrupt, such as the loop monitor's look at the stack. */
const sliceMs = 20;

/**
 * Blocks the calling thread for `ms` milliseconds, like Python's `time.sleep`.
 * On the event loop this freezes the whole server; on the worker lane it holds one worker.
 */
export function sleepSync(ms: number): void {
  if (!(ms > 0)) return;
  const end = performance.now() + ms;
  for (let left = ms; left > 0; left = end - performance.now()) {
    Atomics.wait(cell, 0, 0, Math.min(left, sliceMs));
  }
}
