const cell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks the calling thread for `ms` milliseconds, like Python's `time.sleep`.
 * On the event loop this freezes the whole server; on the worker lane it holds one worker.
 */
export function sleepSync(ms: number): void {
  if (!(ms > 0)) return;
  Atomics.wait(cell, 0, 0, ms);
}
