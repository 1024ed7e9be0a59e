// When to try again after a worker failed: replacements that cannot start, and targets that
// kill their worker every time. Both back off the same way, and never give up for good: the
// database a start hook needs may be down for a minute, not forever.

import { PoolUnavailableError, shedError } from "./pool-errors.js";

const firstDelayMs = 250;
const maxDelayMs = 30_000;

/** 250 ms, 500 ms, 1 s, ... up to 30 s, for the n-th failure in a row (n ≥ 1). */
export function backoffMs(failures: number): number {
  return Math.min(maxDelayMs, firstDelayMs * 2 ** Math.max(0, Math.min(failures - 1, 16)));
}

/** Crashes in a row before a target is refused for a while. One crash may be bad luck. */
const crashesBeforeQuarantine = 2;

interface CrashStreak {
  crashes: number;
  /** Until when (performance.now()) the target is refused. */
  until: number;
}

/**
 * Targets (a route, a blocking function) whose task was running each time a worker died. After
 * two in a row, the target is refused for a backoff that doubles with each further crash, so a
 * request that kills its worker cannot keep every worker restarting while other routes wait.
 * One success clears the streak.
 */
export class CrashQuarantine {
  private readonly streaks = new Map<string, CrashStreak>();

  /** Whether any target has a streak: lets the common case skip building keys. */
  get empty(): boolean {
    return this.streaks.size === 0;
  }

  crashed(kind: number, target: number | string, now: number): void {
    const key = `${kind}:${target}`;
    const streak = this.streaks.get(key) ?? { crashes: 0, until: 0 };
    streak.crashes++;
    // Starts at 1 s: a replacement worker takes a few hundred ms to start, so less would not hold.
    if (streak.crashes >= crashesBeforeQuarantine) streak.until = now + backoffMs(streak.crashes - crashesBeforeQuarantine + 3);
    this.streaks.set(key, streak);
  }

  succeeded(kind: number, target: number | string): void {
    if (this.streaks.size > 0) this.streaks.delete(`${kind}:${target}`);
  }

  /** Ms the target is still refused for, or 0. */
  refusedFor(kind: number, target: number | string, now: number): number {
    const streak = this.streaks.get(`${kind}:${target}`);
    return streak && streak.until > now ? streak.until - now : 0;
  }

  /** Crashes in a row of the target. */
  crashes(kind: number, target: number | string): number {
    return this.streaks.get(`${kind}:${target}`)?.crashes ?? 0;
  }

  /** The error a task of a target refused for now is answered with, or undefined. */
  refusal(kind: number, target: number | string, now: number): PoolUnavailableError | undefined {
    const refusedMs = this.refusedFor(kind, target, now);
    if (refusedMs <= 0) return undefined;
    const seconds = Math.ceil(refusedMs / 1000);
    const crashes = this.crashes(kind, target);
    return shedError(
      () => new PoolUnavailableError(`this handler crashed its worker ${crashes} times in a row; it is refused for ${seconds} s`, seconds),
    );
  }
}
