// Shedding by time, not by count (CoDel; "Fail at Scale"): how long a new task would wait for a
// worker, and how long any task may wait before it is answered "busy" instead of run for a
// client that has likely given up.
import { PoolFullError, shedError } from "./pool-errors.js";
import type { TaskQueue } from "./task-queue.js";

export class WaitBudget {
  /**
   * The limit under sustained overload: a tenth of the normal one, at most 1 s. A burst may
   * queue up to `maxWaitMs` of work; a queue that has not been empty for that long is a
   * standing queue, which only adds latency, so new work may then only queue this long, and
   * the backlog a fresh request meets once a flood stops is this long at most.
   */
  readonly overloadWaitMs: number;
  /** Overload lasts until `maxWaitMs` after the last task shed for time (performance clock of the pool). */
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
  limitMs(queue: TaskQueue, now: number): number {
    if (queue.waiting > 0 && now - queue.nonEmptySince > this.maxWaitMs) this.overloadedUntil = now + this.maxWaitMs;
    return now < this.overloadedUntil ? this.overloadWaitMs : this.maxWaitMs;
  }

  /**
   * The wait a task queued now can expect: the work queued and the rest of the work the busy
   * workers hold (`heldMs`), from measured run times, shared by the workers that can run it
   * (`capacity`, which counts the room to grow when the busy workers are blocked).
   */
  expectedWaitMs(queue: TaskQueue, heldMs: number, capacity: number): number {
    return (queue.workMs + heldMs) / Math.max(1, capacity);
  }

  /** A refusal for a task that would wait too long, or undefined. */
  refusal(queue: TaskQueue, heldMs: number, capacity: number, now: number): PoolFullError | undefined {
    const expected = this.expectedWaitMs(queue, heldMs, capacity);
    const limit = this.limitMs(queue, now);
    if (expected <= limit) return undefined;
    this.overloadedUntil = now + this.maxWaitMs;
    return shedError(
      () =>
        new PoolFullError(
          `the ${queue.waiting} tasks waiting would take about ${duration(expected)} to reach it (limit ${duration(limit)})`,
          retryAfter(expected, limit),
        ),
    );
  }

  /** The refusal for a task that waited `waitedMs`, past its limit, by its turn. */
  late(queue: TaskQueue, waitedMs: number, limit: number, now: number): PoolFullError {
    this.overloadedUntil = now + this.maxWaitMs;
    const expected = this.expectedWaitMs(queue, 0, 1);
    return shedError(() => new PoolFullError(`it waited ${duration(waitedMs)} for a worker (limit ${duration(limit)})`, retryAfter(expected, limit)));
  }
}

/** Whole seconds until the backlog has shrunk to the limit; at least 1. */
function retryAfter(expectedMs: number, limitMs: number): number {
  return Math.max(1, Math.ceil((expectedMs - limitMs) / 1000));
}

/** "300 ms", "2.5 s". */
function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
