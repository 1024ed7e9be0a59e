import { shedError } from "./pool.js";
/** Too many calls are already waiting at this bulkhead. */
export class BulkheadFullError extends Error {
  override readonly name = "BulkheadFullError";
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
  private readonly waiters: (() => void)[] = [];

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

  async run<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      if (this.waiters.length >= this.maxWaiting) {
        throw shedError(() => new BulkheadFullError(`${this.active} calls are running and ${this.waiters.length} waiting at this bulkhead`));
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiters.shift();
      // The slot passes straight to the next waiter, so `active` stays the same.
      if (next) next();
      else this.active--;
    }
  }
}
