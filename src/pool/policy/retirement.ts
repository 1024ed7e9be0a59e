// Retirement: workers above the core that stayed idle for the idle timeout are ended, those of
// one burst together, and reported in one event. Part of the pure policy.
import type { PolicyActions, PolicyConfig, PolicyTask } from "./contract.js";
import { after, type Instant } from "./time.js";
import type { WorkerTable } from "./worker-table.js";

export class Retirement<T extends PolicyTask> {
  private shrinkAt: Instant | undefined;
  /** Retirements not reported yet: workers of one burst go idle over a second or two, and are reported in one event. */
  private shrunk: { from: number; retired: number } | undefined;
  private reportAt: Instant | undefined;
  private closed = false;

  constructor(
    private readonly config: PolicyConfig,
    private readonly table: WorkerTable<T>,
    private readonly actions: PolicyActions<T>,
    private readonly wakeAt: (at: Instant) => void,
  ) {}

  /** A worker above the core went idle. */
  wentIdle(now: Instant): void {
    if (this.shrinkAt === undefined) this.schedule(now);
  }

  /** Retires the workers that are due and reports the retirements that are due. */
  tick(now: Instant): void {
    if (this.shrinkAt !== undefined && this.shrinkAt <= now) this.shrink(now);
    if (this.reportAt !== undefined && this.reportAt <= now) this.report();
    for (const at of [this.shrinkAt, this.reportAt]) if (at !== undefined) this.wakeAt(at);
  }

  /** Reports the retirements not reported yet (before a growth, so events stay in order). */
  report(): void {
    this.reportAt = undefined;
    if (!this.shrunk) return;
    const { from, retired } = this.shrunk;
    this.shrunk = undefined;
    this.actions.resized({ kind: "shrink", from, to: this.table.size, retired, idleMs: this.config.idleTimeoutMs });
  }

  close(): void {
    this.closed = true;
    this.shrinkAt = this.reportAt = undefined;
  }

  /**
   * Looks a little after the longest-idle worker above the core is due, so that the ones that
   * went idle about when it did (the end of one burst) are retired together, in one event.
   */
  private schedule(now: Instant): void {
    const oldest = this.table.oldestIdleAboveCore;
    if (oldest === undefined || this.closed) return;
    const together = Math.min(1000, this.config.idleTimeoutMs / 4);
    this.shrinkAt = after(now, Math.max(0, oldest + this.config.idleTimeoutMs + together - now));
    this.wakeAt(this.shrinkAt);
  }

  private shrink(now: Instant): void {
    this.shrinkAt = undefined;
    // 1 ms of slack: a timer may fire a fraction of a millisecond before its due time.
    const retired = this.table.idleAboveCoreSince(now - this.config.idleTimeoutMs + 1);
    if (retired.length > 0) {
      this.shrunk ??= { from: this.table.size, retired: 0 };
      this.shrunk.retired += retired.length;
      for (const worker of retired) {
        worker.state = "stopping";
        this.table.vacate(worker);
      }
      this.actions.retire(retired.map((worker) => worker.slot));
      this.reportAt = after(now, Math.min(1000, this.config.idleTimeoutMs));
    }
    this.schedule(now);
  }
}
