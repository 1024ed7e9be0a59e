// Growth: the slots above the core taken while work waits on blocked workers, and started a few
// at a time. Part of the pure policy; when to grow is policy.ts's decision, this is how.
import { backoffMs } from "./backoff.js";
import type { PolicyConfig, PolicyTask, PolicyWorker } from "./contract.js";
import { after, type Instant } from "./time.js";
import type { WorkerTable } from "./worker-table.js";

export class Growth<T extends PolicyTask> {
  /** Growth slots taken whose worker is not started yet, in the order they start. */
  private readonly planned: number[] = [];
  private startingNow = 0;
  private failures = 0;
  private pausedUntil = 0 as Instant;
  private closed = false;
  private readonly startsAtOnce: number;

  constructor(
    private readonly config: PolicyConfig,
    private readonly table: WorkerTable<T>,
    private readonly launch: (worker: PolicyWorker<T>) => void,
  ) {
    this.startsAtOnce = config.growthStartsAtOnce ?? Math.max(2, config.cores);
  }

  /** After a growth worker failed to start, growth waits out a backoff. */
  paused(now: Instant): boolean {
    return now < this.pausedUntil;
  }

  /** How many more workers growth may take: up to the max, the quick worker apart. */
  get room(): number {
    return this.config.maxSize - this.table.size + (this.table.hasQuick ? 1 : 0);
  }

  /**
   * Takes up to `count` free growth slots, lowest first; returns how many. A worker takes tens of
   * milliseconds of CPU to start: started all at once, 36 share the cores and all become ready
   * late; a few at a time, they become ready one after another, each taking work as it comes.
   */
  grow(count: number, now: Instant): number {
    if (this.paused(now) || this.closed) return 0;
    const slots = this.table.freeSlots(this.config.coreSize + 1, this.config.maxSize, count);
    for (const slot of slots) this.table.take(slot, "growth");
    this.planned.push(...slots);
    this.startPlanned();
    return slots.length;
  }

  /** A growth worker is ready: the next planned one starts. */
  ready(): void {
    this.failures = 0;
    this.startingNow--;
    this.startPlanned();
  }

  /** A worker above the core exited; `wasStarting` if it was a growth worker still starting, `failedToStart` if it never became ready and was not stopped. */
  exited(wasStarting: boolean, failedToStart: boolean, now: Instant): void {
    if (wasStarting) this.startingNow--;
    if (failedToStart) {
      // Give up the slots planned; they are taken again if work still waits.
      this.unplan();
      this.failures++;
      this.pausedUntil = after(now, backoffMs(this.failures));
    }
    this.startPlanned();
  }

  close(): void {
    this.closed = true;
    this.unplan();
  }

  private unplan(): void {
    for (const slot of this.planned) this.table.vacate(this.table.at(slot)!);
    this.planned.length = 0;
  }

  private startPlanned(): void {
    while (this.startingNow < this.startsAtOnce && this.planned.length > 0 && !this.closed) {
      const worker = this.table.at(this.planned.shift()!)!;
      this.startingNow++;
      this.launch(worker);
    }
  }
}
