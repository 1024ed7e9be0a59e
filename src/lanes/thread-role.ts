// Whether this thread is a Loopwise pool worker. Kept on globalThis so that every copy of the
// package loaded in the thread agrees.
const roleKey = Symbol.for("loopwise.worker-slot");

export function markWorkerThread(slot: number): void {
  (globalThis as Record<symbol, unknown>)[roleKey] = slot;
}

/** The worker's slot number inside a pool worker, else undefined (the main thread). */
export function workerSlot(): number | undefined {
  return (globalThis as Record<symbol, unknown>)[roleKey] as number | undefined;
}
