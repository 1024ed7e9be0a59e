// One vocabulary for how long a target runs, from its measured runs and from what is seen of it
// running now. The pool decides three things by it: which waiting task goes first, which tasks
// may share a worker that is already awake, and when the quick worker is worth starting.

import type { QueuedTask } from "./task-queue.js";
import type { Instant } from "./time.js";

/**
 * - `trivial`: well under a millisecond, measured many times (a hello): may join the batch of a
 *   worker that is already awake, since waking a sleeping thread costs more than the task.
 * - `quick`: a few milliseconds at most: goes ahead of slower work that waits, and delays it by
 *   next to nothing.
 * - `unknown`: never ran, and none of it has been seen running long: given the benefit of the
 *   doubt, it goes ahead too (a health check never seen before must not wait behind a burst of
 *   sleepers known to be slow).
 * - `moderate`: between quick and slow; waits its turn.
 * - `slow`: runs for tens of milliseconds or more, measured or seen running so now; waits its
 *   turn, and the quick worker may start behind it.
 */
export type Speed = "trivial" | "quick" | "unknown" | "moderate" | "slow";

/** The bounds of the speeds, in ms of run time. */
export const speedLimitsMs = {
  /** Below this average, over `trivialAfterRuns` runs or more, a target is trivial. */
  trivial: 0.2,
  /** Below this average, it is quick. */
  quick: 5,
  /** A task that has run this long is slow work, whatever its target's average says. */
  slow: 25,
} as const;

/** Runs measured before a target may be called trivial: one cheap run proves little. */
export const trivialAfterRuns = 16;

/** Whether tasks of this speed go ahead of slower work that waits. */
export function goesAhead(speed: Speed): boolean {
  return speed === "trivial" || speed === "quick" || speed === "unknown";
}

/** What the policy knows of one target (a route, a blocking function), and its tasks waiting. */
export class Target {
  runs = 0;
  averageMs = 0;
  /** A task of it has been seen running `speedLimitsMs.slow` or longer before any run finished. */
  seenRunningLong = false;
  /** Its tasks waiting for a worker, oldest first (see TaskQueue). */
  readonly waiting: QueuedTask[] = [];
  waitingHead = 0;

  constructor(
    readonly kind: number,
    readonly id: number | string,
  ) {}

  get speed(): Speed {
    if (this.runs === 0) return this.seenRunningLong ? "slow" : "unknown";
    if (this.averageMs < speedLimitsMs.trivial && this.runs >= trivialAfterRuns) return "trivial";
    if (this.averageMs < speedLimitsMs.quick) return "quick";
    return this.averageMs < speedLimitsMs.slow ? "moderate" : "slow";
  }

  /** Its estimated run time for a task queued now, ms (`typicalMs` before it ever ran). */
  estimateMs(typicalMs: number): number {
    return this.runs > 0 ? this.averageMs : typicalMs;
  }

  record(runMs: number): void {
    this.runs++;
    if (this.runs === 1) this.averageMs = runMs;
    else if (this.runs === 2 && runMs < this.averageMs) {
      // A first run is cold (compiling, first imports), often ten times the next: the second replaces it.
      this.averageMs = runMs;
    } else this.averageMs += (runMs - this.averageMs) / Math.min(this.runs, 32);
  }
}

/** Every target's runs, by kind then id: no key strings are built per task. */
export class Targets {
  private readonly byKind = new Map<number, Map<number | string, Target>>();
  /** Every target's runs, smoothed: the estimate for a target that has not run yet, ms. */
  typicalMs = 0;

  of(kind: number, id: number | string): Target {
    let byId = this.byKind.get(kind);
    if (!byId) this.byKind.set(kind, (byId = new Map()));
    let target = byId.get(id);
    if (!target) byId.set(id, (target = new Target(kind, id)));
    return target;
  }

  record(target: Target, runMs: number): void {
    target.record(runMs);
    this.typicalMs += (runMs - this.typicalMs) / 32;
  }
}

/** Whether a task dispatched at `dispatchedAt` has run long enough by `now` to count as slow work. */
export function runningLong(dispatchedAt: Instant, now: Instant): boolean {
  return now - dispatchedAt >= speedLimitsMs.slow;
}
