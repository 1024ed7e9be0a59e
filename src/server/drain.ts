// Graceful shutdown, shared by serve(), the cluster parent and the reloader: counting what is in
// flight, waiting for it within a grace period, and the signal rule (the first SIGINT/SIGTERM
// drains, a second one means "now").
import { performance } from "node:perf_hooks";

/** Requests in flight, and a way to wait until there are none. */
export class InFlight {
  private count = 0;
  private onIdle: (() => void) | undefined;

  get size(): number {
    return this.count;
  }

  begin(): void {
    this.count++;
  }

  end(): void {
    if (--this.count === 0) this.onIdle?.();
  }

  /** Resolves true once nothing is in flight, false if `graceMs` passes first. */
  drained(graceMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), graceMs);
      this.onIdle = () => {
        clearTimeout(timer);
        this.onIdle = undefined;
        resolve(true);
      };
    });
  }
}

/**
 * Calls `stop` on the first SIGINT or SIGTERM; a second signal while it runs means "now":
 * `now()` runs and the process exits with code 1. Returns the function that removes the listeners.
 */
export function onShutdownSignals(stop: (signal: NodeJS.Signals) => void, now: () => void = () => {}): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      now();
      process.exit(1);
    }
    stopping = true;
    stop(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

/** Whether `promise` settled before `deadline` (a `performance.now()` time). */
export function settledBefore(promise: Promise<unknown>, deadline: number): Promise<boolean> {
  if (!Number.isFinite(deadline))
    return promise.then(
      () => true,
      () => true,
    );
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, deadline - performance.now()));
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(done, done);
  });
}
