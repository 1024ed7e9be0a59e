// A bench for the pool's policy in virtual time: it plays the pool's part (the threads, their
// messages, the timer) by hand, records every command, and moves the clock only when told.
import { type Look, type PolicyConfig, type PolicyTask, PoolPolicy, type Role } from "../../src/pool/policy/policy.ts";
import type { Refusal } from "../../src/pool/policy/refusal.ts";
import { type Instant, instant } from "../../src/pool/policy/time.ts";
import type { PoolResizeEvent } from "../../src/pool/pool-options.ts";

export interface Task extends PolicyTask {
  route: string;
}

export const blockedLook: Look = { cpuShare: 0.05, threads: { blocked: 99, computing: 0, unknown: 0 }, looksBlocked: true };
export const computingLook: Look = { cpuShare: 1, threads: { blocked: 0, computing: 99, unknown: 0 }, looksBlocked: false };

export class PolicyBench {
  now = 0;
  readonly policy: PoolPolicy<Task>;
  readonly started: [number, Role][] = [];
  /** Slot of each dispatched task, by id. */
  readonly dispatched = new Map<number, number>();
  readonly shed: [Task, Refusal][] = [];
  readonly retired: number[] = [];
  readonly resizes: PoolResizeEvent[] = [];
  readonly restartsFailed: [slot: number, attempt: number, retryInMs: number][] = [];
  /** What the busy workers look like to the policy (set by each test). */
  look: Look = blockedLook;
  looks = 0;
  private wake: number | undefined;
  private nextId = 1;

  constructor(config: Partial<PolicyConfig> = {}) {
    this.policy = new PoolPolicy<Task>(
      { coreSize: 2, maxSize: 8, maxQueue: 1024, maxQueueWaitMs: 5000, idleTimeoutMs: 1000, cores: 2, ...config },
      {
        start: (slot, role) => this.started.push([slot, role]),
        dispatch: (task, slot) => this.dispatched.set(task.id, slot),
        shed: (task, refusal) => this.shed.push([task, refusal]),
        retire: (slots) => this.retired.push(...slots),
        resized: (event) => this.resizes.push(event),
        restartFailed: (slot, attempt, retryInMs) => this.restartsFailed.push([slot, attempt, retryInMs]),
        wakeAt: (at) => {
          if (this.wake === undefined || at < this.wake) this.wake = at;
        },
      },
    );
  }

  get at(): Instant {
    return instant(this.now);
  }

  /** Starts the core and makes each worker ready. */
  startCore(): this {
    this.policy.start();
    for (const [slot] of this.started) this.policy.workerReady(slot, this.at);
    return this;
  }

  task(route: string, timeLimited = false): Task {
    const target = this.policy.target(0, route);
    return {
      id: this.nextId++,
      route,
      target,
      timeLimited,
      state: "queued",
      enqueuedAt: this.at,
      estimateMs: 0,
      maxWaitMs: 0,
      dispatchedAt: this.at,
      trivial: false,
      retried: false,
      slot: 0,
    };
  }

  /** A task of `route` arrives; returns it (check `refusal` for a refusal). */
  arrive(route: string, timeLimited = false): Task & { refusal?: Refusal } {
    const task: Task & { refusal?: Refusal } = this.task(route, timeLimited);
    const refusal = this.policy.arrive(task, this.at);
    if (refusal) task.refusal = refusal;
    return task;
  }

  arriveMany(route: string, count: number): Task[] {
    return Array.from({ length: count }, () => this.arrive(route));
  }

  /** The worker holding `task` finishes it, after `runMs`, and reports. */
  finish(task: Task, runMs: number, ok = true): void {
    const slot = task.slot;
    this.policy.finished(task, runMs, ok);
    this.policy.reported(slot, this.at);
  }

  /** Runs a target `times` times on an idle pool, `runMs` each, so the policy has measured it. */
  measure(route: string, runMs: number, times = 3): void {
    for (let i = 0; i < times; i++) this.finish(this.arrive(route), runMs);
  }

  /** Moves the clock by `ms`, ticking the policy at each time it asked to be woken. */
  advance(ms: number): void {
    const end = this.now + ms;
    while (this.wake !== undefined && this.wake <= end) {
      this.now = Math.max(this.now, this.wake);
      this.wake = undefined;
      this.policy.tick(this.at, () => {
        this.looks++;
        return this.look;
      });
    }
    this.now = end;
  }

  /** Every starting worker becomes ready. */
  readyAll(): void {
    for (const [slot] of this.started) if (this.policy.stateOf(slot)?.state === "starting") this.policy.workerReady(slot, this.at);
  }

  slotOf(task: Task): number | undefined {
    return task.state === "held" || task.state === "settled" ? this.dispatched.get(task.id) : undefined;
  }
}
