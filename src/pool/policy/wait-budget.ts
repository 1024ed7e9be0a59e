// Shedding by time, not by count (CoDel; "Fail at Scale"): how long a new task would wait for a
// worker, and how long any task may wait before it is answered "busy" instead of run for a
// client that has likely given up.
import type { Refusal } from "./refusal.js";
import type { Instant } from "./time.js";

/** What the budget reads of the queue. */
export interface QueueLoad {
  readonly waiting: number;
  readonly workMs: number;
  readonly nonEmptySince: Instant;
}

export class WaitBudget {
  /**
   * The limit under sustained overload: a tenth of the normal one, at most 1 s. A burst may
   * queue up to `maxWaitMs` of work; a queue that has not been empty for that long is a
   * standing queue, which only adds latency, so new work may then only queue this long, and
   * the backlog a fresh request meets once a flood stops is this long at most.
   */
  readonly overloadWaitMs: number;
  /** Overload lasts until `maxWaitMs` after the last task shed for time. */
  private overloadedUntil = 0;

  constructor(readonly maxWaitMs: number) {
    if (!(maxWaitMs > 0)) throw new RangeError(`the queue wait limit must be a positive number of ms, got ${maxWaitMs}`);
    this.overloadWaitMs = Math.min(1000, maxWaitMs / 10);
  }

  /**
   * How long a task queued now may wait (ms): `maxWaitMs`, or the overload limit while the
   * queue has not been empty for that long or tasks were shed lately. Each task keeps the limit
   * it was queued under, so a burst admitted under the normal limit is served, while during a
   * flood new work may only queue briefly.
   */
  limitMs(queue: QueueLoad, now: Instant): number {
    if (queue.waiting > 0 && now - queue.nonEmptySince > this.maxWaitMs) this.overloadedUntil = now + this.maxWaitMs;
    return now < this.overloadedUntil ? this.overloadWaitMs : this.maxWaitMs;
  }

  /**
   * The refusal of a task that would wait too long, or undefined. Its expected wait is the work
   * queued and the rest of the work the busy workers hold (`heldMs`), from measured run times,
   * shared by the workers that can run it (`capacity`, which counts the room to grow when the
   * busy workers are blocked).
   */
  refusal(queue: QueueLoad, heldMs: number, capacity: number, now: Instant): Refusal | undefined {
    const expectedMs = (queue.workMs + heldMs) / Math.max(1, capacity);
    const limitMs = this.limitMs(queue, now);
    if (expectedMs <= limitMs) return undefined;
    this.overloadedUntil = now + this.maxWaitMs;
    return { reason: "wait", waiting: queue.waiting, expectedMs, limitMs, retryAfterSeconds: retryAfter(expectedMs, limitMs) };
  }

  /** The refusal of a task that waited `waitedMs`, past its limit, by its turn. */
  late(queue: QueueLoad, waitedMs: number, limitMs: number, now: Instant): Refusal {
    this.overloadedUntil = now + this.maxWaitMs;
    return {
      reason: "wait",
      waiting: queue.waiting,
      expectedMs: queue.workMs,
      limitMs,
      waitedMs,
      retryAfterSeconds: retryAfter(queue.workMs, limitMs),
    };
  }
}

/** Whole seconds until the backlog has shrunk to the limit; at least 1. */
function retryAfter(expectedMs: number, limitMs: number): number {
  return Math.max(1, Math.ceil((expectedMs - limitMs) / 1000));
}
