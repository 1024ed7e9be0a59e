// What travels with every task besides its payload, on every lane that leaves the event loop (a
// worker thread, a worker process): the caller's context, what cancels it, and how long it may
// take. Made in one place, so a route, a pooled dependency, offload() and a background task send
// the same things the same way.
import { performance } from "node:perf_hooks";
import type { HttpRequest } from "../http/request.js";
import type { CancelSignal, RunOptions } from "../pool/pool-options.js";
import { captureContext } from "../threads/context-var.js";

export { captureContext, runInContext, type TaskContext } from "../threads/context-var.js";

/**
 * Where a request keeps what cancels a task sent on its behalf, when it has something cheaper
 * than its AbortSignal (the main thread's request watches its socket: one listener, no
 * AbortController, which costs more than a trivial task).
 */
export const cancelSignalKey = Symbol("loopwise.cancelSignal");

/** What cancels a task sent for `req`: its client's leaving. */
export function cancelSignalOf(req: HttpRequest): CancelSignal {
  const cheap = (req as { [cancelSignalKey]?: CancelSignal })[cancelSignalKey];
  return cheap ?? req.signal;
}

/** A task sent on a request's behalf: cancelled when its client leaves, in the caller's context, within what is left of its time limit. */
export function requestTask(req: HttpRequest, timeoutMs?: number): RunOptions {
  const options: RunOptions = { signal: cancelSignalOf(req), context: captureContext() };
  if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
  return options;
}

/** What is left of a time limit counted from `readAt` (performance.now() when the request was read), at least 1 ms. */
export function timeLeft(limitMs: number, readAt: number): number {
  return Math.max(1, limitMs - (performance.now() - readAt));
}
