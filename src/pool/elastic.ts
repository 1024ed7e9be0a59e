// When the pool grows past its core and when it shrinks back: a short tick while work waits
// looks whether the busy workers are blocked (then it starts as many workers as tasks wait,
// up to the max), whether quick tasks are stuck behind slower work (then it starts the quick
// worker), and a timer retires growth workers that stay idle.
import { CpuMeter, WorkerThreadsMeter, workersLookBlocked } from "./cpu-meter.js";
import type { IdleWorkers } from "./idle-workers.js";
import type { PoolResizeEvent } from "./pool-options.js";
import type { TaskQueue } from "./task-queue.js";
import type { WorkerSlots } from "./worker-slots.js";

/** How often the pool looks while work waits: short enough that 40 blocked requests wait a tick, not a second. */
const tickMs = 25;
/**
 * The first look, soon after work starts waiting: time for the busy workers to have begun their
 * tasks. Where their threads can be seen, a worker is judged on its second sighting in a task,
 * so the look after a first sighting comes sooner.
 */
const firstLookMs = 5;
const secondSightingMs = 10;
/**
 * A task that has run this long is slow work, whatever its measurements say: the quick worker
 * starts only behind such tasks, not behind a flood of tasks not measured yet.
 */
const slowTaskMs = 25;

export interface ElasticHooks {
  /** Refuses the tasks at the head of the queue that waited past the limit (the tick runs even when no worker frees up). */
  shedLate(): void;
  onResize?: (event: PoolResizeEvent) => void;
}

export class Elastic {
  /**
   * Whether the busy workers were found blocked while this queue lasted (undefined: not looked
   * yet). Wait estimates count the room to grow unless they were found computing.
   */
  blocked: boolean | undefined;
  private blockedLooks = 0;
  private tick: NodeJS.Timeout | undefined;
  private shrinkTimer: NodeJS.Timeout | undefined;
  private readonly cpu = new CpuMeter();
  private readonly threads = new WorkerThreadsMeter();
  /** Retirements not reported yet: workers of one burst go idle over a second or two, and are reported in one event. */
  private shrunk: { from: number; retired: number } | undefined;
  private shrinkReport: NodeJS.Timeout | undefined;

  constructor(
    private readonly slots: WorkerSlots,
    private readonly queue: TaskQueue,
    private readonly idle: IdleWorkers,
    private readonly idleTimeoutMs: number,
    private readonly hooks: ElasticHooks,
  ) {}

  /** Work waits with no idle worker: look every tick until the queue is empty. */
  workWaits(): void {
    if (this.tick) return;
    this.cpu.reset();
    this.tick = setTimeout(this.look, firstLookMs).unref();
  }

  /** A growth worker went idle: it is retired if it stays idle for the idle timeout. */
  growthWentIdle(): void {
    if (!this.shrinkTimer) this.scheduleShrink();
  }

  stop(): void {
    clearTimeout(this.tick);
    clearTimeout(this.shrinkTimer);
    clearTimeout(this.shrinkReport);
    this.tick = this.shrinkTimer = this.shrinkReport = undefined;
  }

  private readonly look = (): void => {
    this.tick = undefined;
    this.hooks.shedLate();
    if (this.queue.waiting === 0) {
      // The episode is over; the next one is judged afresh.
      this.blocked = undefined;
      this.blockedLooks = 0;
      return;
    }
    const cpuShare = this.cpu.read();
    // Workers already starting will take tasks; grow by the rest.
    const wanted = Math.min(this.queue.waiting - this.slots.starting, this.slots.growthRoom);
    // Judged only when it may decide a growth: reading the threads' states costs a little, and
    // while workers start, their start-up is what uses the CPU.
    let nextLookMs = tickMs;
    let mayGrow = false;
    if (wanted > 0) {
      const seen = this.threads.look(this.slots.all);
      if (seen === undefined) {
        // Two looks in a row: a worker waiting a moment for its next task (the loop was busy) looks blocked too.
        this.judge(workersLookBlocked(cpuShare, this.cpu.cores));
        mayGrow = this.blockedLooks >= 2;
      } else if (seen.blocked + seen.computing > 0) {
        // Seen inside their tasks, one look is enough. More workers help while most busy ones
        // are blocked and the ones computing leave a core free; CPU-bound work keeps its
        // workers runnable, so it never grows (the loop's own CPU, busy with the requests
        // that queue, does not count against growth).
        this.judge(seen.blocked > seen.computing && seen.computing < this.cpu.cores);
        mayGrow = this.blocked === true;
      } else if (seen.unknown > 0) {
        nextLookMs = secondSightingMs;
      }
    }
    if (mayGrow && this.idle.count === 0) {
      this.reportShrink();
      const from = this.slots.size;
      const started = this.slots.grow(wanted, performance.now());
      if (started > 0) {
        this.hooks.onResize?.({ kind: "grow", from, to: this.slots.size, waiting: this.queue.waiting, cpuShare, cores: this.cpu.cores });
      }
    }
    if (this.quickTasksStuck()) {
      const from = this.slots.size;
      const slot = this.slots.startQuickWorker(performance.now());
      if (slot !== undefined) this.hooks.onResize?.({ kind: "quick", from, to: this.slots.size, slot, waiting: this.queue.waiting });
    }
    this.tick = setTimeout(this.look, nextLookMs).unref();
  };

  /**
   * A quick task waits, no worker is idle or starting, and every worker is in a task not measured
   * as quick that has run a while: it would wait for the rest of a slow task (a 1 s sleeper, a
   * long computation) that no growth is coming to relieve (the pool is at its max, or its
   * workers compute). The quick worker, above the max, serves such tasks alone: a health check
   * or a hello stays prompt behind a pool full of slow work, for the memory of one more worker.
   */
  private quickTasksStuck(): boolean {
    if (!this.queue.quickWaiting || this.slots.quickWorker || this.slots.starting > 0 || this.idle.count > 0) return false;
    if (this.slots.growthRoom > 0 && this.blocked !== false) return false;
    const startedBefore = performance.timeOrigin + performance.now() - slowTaskMs;
    return this.slots.all.every((worker) => {
      const head = worker?.ready ? worker.inFlight[0] : undefined;
      return !worker?.ready || (head !== undefined && !head.quick && head.dispatchedAt <= startedBefore);
    });
  }

  private judge(blocked: boolean): void {
    this.blocked = blocked;
    this.blockedLooks = blocked ? this.blockedLooks + 1 : 0;
  }

  /**
   * Looks a little after the longest-idle growth worker is due, so that the ones that went idle
   * about when it did (the end of one burst) are retired together, in one log line.
   */
  private scheduleShrink(): void {
    const oldest = this.idle.oldestIdleSince;
    if (oldest === undefined) return;
    const together = Math.min(1000, this.idleTimeoutMs / 4);
    const delay = Math.max(0, oldest + this.idleTimeoutMs + together - performance.now());
    this.shrinkTimer = setTimeout(this.shrink, delay).unref();
  }

  private readonly shrink = (): void => {
    this.shrinkTimer = undefined;
    // 1 ms of slack: a timer may fire a fraction of a millisecond before its due time.
    const retired = this.idle.takeIdleSince(performance.now() - this.idleTimeoutMs + 1);
    if (retired.length > 0) {
      this.shrunk ??= { from: this.slots.size, retired: 0 };
      this.shrunk.retired += retired.length;
      this.slots.retire(retired);
      clearTimeout(this.shrinkReport);
      this.shrinkReport = setTimeout(this.reportShrink, Math.min(1000, this.idleTimeoutMs)).unref();
    }
    this.scheduleShrink();
  };

  private readonly reportShrink = (): void => {
    clearTimeout(this.shrinkReport);
    this.shrinkReport = undefined;
    if (!this.shrunk) return;
    const { from, retired } = this.shrunk;
    this.shrunk = undefined;
    this.hooks.onResize?.({ kind: "shrink", from, to: this.slots.size, retired, idleMs: this.idleTimeoutMs });
  };
}
