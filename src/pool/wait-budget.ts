// Shedding by time, not by count (CoDel; "Fail at Scale"): how long a new task would wait for a
// worker, and how long any task may wait before it is answered "busy" instead of run for a
// client that has likely given up.
import { PoolFullError, shedError } from "./pool-errors.js";
import type { TaskQueue } from "./task-queue.js";

export class WaitBudget {
  /**
   * The limit under sustained overload: a tenth of the normal one, at most 1 s. A burst may
   * queue up to `maxWaitMs` of work; a queue that has not been empty for that long is a
   * standing queue, which only adds latency, so it is cut to this, and the backlog a fresh
   * request meets once a flood stops is this long at most.
   */
  readonly overloadWaitMs: number;

  constructor(readonly maxWaitMs: number) {
    if (!(maxWaitMs > 0)) throw new RangeError(`the queue wait limit must be a positive number of ms, got ${maxWaitMs}`);
    this.overloadWaitMs = Math.min(1000, maxWaitMs / 10);
  }

  /** How long a task may wait now (ms): `maxWaitMs`, or less while the queue has not been empty for that long. */
  limitMs(queue: TaskQueue, now: number): number {
    return now - queue.nonEmptySince > this.maxWaitMs ? this.overloadWaitMs : this.maxWaitMs;
  }

  /**
   * The wait a task queued now can expect: the waiting tasks' measured run times, shared by
   * the workers that can run them (`capacity`, which counts the room to grow when the busy
   * workers are blocked, since more will start).
   */
  expectedWaitMs(queue: TaskQueue, capacity: number): number {
    return queue.workMs / Math.max(1, capacity);
  }

  /** A refusal for a task that would wait too long, or undefined. */
  refusal(queue: TaskQueue, capacity: number, now: number): PoolFullError | undefined {
    const expected = this.expectedWaitMs(queue, capacity);
    const limit = this.limitMs(queue, now);
    if (expected <= limit) return undefined;
    return shedError(
      () => new PoolFullError(`the ${queue.waiting} tasks waiting would take about ${seconds(expected)} s to reach it (limit ${seconds(limit)} s)`, retryAfter(expected, limit)),
    );
  }

  /** The refusal for a task that waited `waitedMs`, past the limit, when its turn came. */
  late(queue: TaskQueue, capacity: number, waitedMs: number, limit: number): PoolFullError {
    const expected = this.expectedWaitMs(queue, capacity);
    return shedError(() => new PoolFullError(`it waited ${seconds(waitedMs)} s for a worker (limit ${seconds(limit)} s)`, retryAfter(expected, limit)));
  }
}

/** Whole seconds until the backlog has shrunk to the limit; at least 1. */
function retryAfter(expectedMs: number, limitMs: number): number {
  return Math.max(1, Math.ceil((expectedMs - limitMs) / 1000));
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
