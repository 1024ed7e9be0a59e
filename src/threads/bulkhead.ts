import { shedError } from "../pool/pool-errors.js";

/** Too many calls are already waiting at this bulkhead. */
export class BulkheadFullError extends Error {
  override readonly name = "BulkheadFullError";
}

/** A call waited at the bulkhead until its deadline passed, and never ran. */
export class BulkheadTimeoutError extends Error {
  override readonly name = "BulkheadTimeoutError";
  constructor(readonly waitedMs: number) {
    super(`waited ${Math.round(waitedMs)} ms at the bulkhead without a turn`);
  }
}

interface Waiter {
  go(): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Caps how many calls of one kind run at once, so a slow route cannot take every worker and
 * starve the fast ones (the failure of a single shared limiter, like FastAPI's 40 threads).
 * Calls over the cap wait here, in their own FIFO, not in the pool's queue.
 *
 *     const reports = new Bulkhead(2);                 // share it between routes, or
 *     app.get("/report", { concurrency: 2 }, build);   // give one route its own
 */
export class Bulkhead {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    readonly limit: number,
    /** Calls allowed to wait; one more is refused with BulkheadFullError. */
    readonly maxWaiting = 1024,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`bulkhead limit must be a positive integer, got ${limit}`);
  }

  get running(): number {
    return this.active;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Runs `fn` once a place is free. With `maxWaitMs`, a call still waiting then is refused with
   * BulkheadTimeoutError (a route's timeout counts from when the request was read, waiting
   * here included); `fn` gets the time it waited.
   */
  async run<T>(fn: (waitedMs: number) => T | Promise<T>, maxWaitMs?: number): Promise<T> {
    const arrived = performance.now();
    if (this.active >= this.limit) {
      if (this.waiters.length >= this.maxWaiting) {
        throw shedError(() => new BulkheadFullError(`${this.active} calls are running and ${this.waiters.length} waiting at this bulkhead`));
      }
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { go: resolve, timer: undefined };
        if (maxWaitMs !== undefined) {
          waiter.timer = setTimeout(
            () => {
              this.waiters.splice(this.waiters.indexOf(waiter), 1);
              reject(new BulkheadTimeoutError(performance.now() - arrived));
            },
            Math.max(0, maxWaitMs),
          );
        }
        this.waiters.push(waiter);
      });
    } else {
      this.active++;
    }
    try {
      return await fn(performance.now() - arrived);
    } finally {
      const next = this.waiters.shift();
      // The place passes straight to the next waiter, so `active` stays the same.
      if (next) {
        clearTimeout(next.timer);
        next.go();
      } else this.active--;
    }
  }
}
