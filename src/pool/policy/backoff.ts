// When to try again after a worker failed: replacements that cannot start, and targets that
// kill their worker every time. Both back off the same way, and never give up for good: the
// database a start hook needs may be down for a minute, not forever.
import type { Refusal } from "./refusal.js";
import type { Target } from "./speed.js";
import type { Instant } from "./time.js";

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
  until: Instant;
}

/**
 * Targets (a route, a blocking function) whose task was running each time a worker died. After
 * two in a row, the target is refused for a backoff that doubles with each further crash, so a
 * request that kills its worker cannot keep every worker restarting while other routes wait.
 * One success clears the streak.
 */
export class CrashQuarantine {
  private readonly streaks = new Map<Target, CrashStreak>();

  crashed(target: Target, now: Instant): void {
    const streak = this.streaks.get(target) ?? { crashes: 0, until: 0 as Instant };
    streak.crashes++;
    // Starts at 1 s: a replacement worker takes a few hundred ms to start, so less would not hold.
    if (streak.crashes >= crashesBeforeQuarantine) streak.until = (now + backoffMs(streak.crashes - crashesBeforeQuarantine + 3)) as Instant;
    this.streaks.set(target, streak);
  }

  succeeded(target: Target): void {
    if (this.streaks.size > 0) this.streaks.delete(target);
  }

  /** The refusal of a task of a target refused for now, or undefined. */
  refusal(target: Target, now: Instant): Refusal | undefined {
    if (this.streaks.size === 0) return undefined;
    const streak = this.streaks.get(target);
    if (!streak || streak.until <= now) return undefined;
    return { reason: "quarantined", crashes: streak.crashes, retryAfterSeconds: Math.ceil((streak.until - now) / 1000) };
  }
}
