// The pool's two clocks, told apart by their types. The policy reads only the monotonic one
// (the performance clock); a worker reports when it started a task on the wall clock, which is the
// only one two threads share.

/** A point on this thread's monotonic clock (the performance clock), in ms. */
export type Instant = number & { readonly clock: "monotonic" };

/** A point on the wall clock (the time origin plus the performance clock), in ms since 1970. */
export type EpochMs = number & { readonly clock: "epoch" };

export function instant(ms: number): Instant {
  return ms as Instant;
}

/** `at` plus a duration in ms. */
export function after(at: Instant, ms: number): Instant {
  return (at + ms) as Instant;
}

/** The monotonic instant `at` on the wall clock of this thread. */
export function epochOf(at: Instant, timeOrigin: number): EpochMs {
  return (timeOrigin + at) as EpochMs;
}
