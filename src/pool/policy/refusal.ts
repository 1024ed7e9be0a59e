// Why the policy turns a task away, as data: the pool makes each into the error its caller sees
// (pool-errors.ts), so the policy needs no error classes and its tests compare plain values.

export type Refusal =
  /** The count cap of the queue (a memory bound) is reached. */
  | { reason: "queue-full"; workers: number; waiting: number }
  /** It would wait past the wait limit, or did by its turn (`waitedMs` set). */
  | { reason: "wait"; waiting: number; expectedMs: number; limitMs: number; waitedMs?: number; retryAfterSeconds: number }
  /** No worker is ready and replacements keep failing to start. */
  | { reason: "unavailable"; attempts: number; retryAfterSeconds: number }
  /** Its target killed its worker again and again: refused for a while. */
  | { reason: "quarantined"; crashes: number; retryAfterSeconds: number };

/** "300 ms", "2.5 s". */
export function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The refusal in words, for the error message. */
export function describeRefusal(refusal: Refusal): string {
  switch (refusal.reason) {
    case "queue-full":
      return `all ${refusal.workers} workers are busy and ${refusal.waiting} tasks are queued`;
    case "wait":
      return refusal.waitedMs === undefined
        ? `the ${refusal.waiting} tasks waiting would take about ${duration(refusal.expectedMs)} to reach it (limit ${duration(refusal.limitMs)})`
        : `it waited ${duration(refusal.waitedMs)} for a worker (limit ${duration(refusal.limitMs)})`;
    case "unavailable":
      return `no worker could start (${refusal.attempts} failed tries in a row); retrying`;
    case "quarantined":
      return `this handler crashed its worker ${refusal.crashes} times in a row; it is refused for ${refusal.retryAfterSeconds} s`;
  }
}
