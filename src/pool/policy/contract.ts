// What the policy and the pool agree on: the policy's configuration, a worker's role and
// lifecycle, what it keeps of a task, what the pool tells it (looks, exits) and the commands it
// gives (PolicyActions). The state machine itself is policy.ts.
import type { PoolResizeEvent } from "../pool-options.js";
import type { Refusal } from "./refusal.js";
import type { QueuedTask } from "./task-queue.js";
import type { Instant } from "./time.js";

export interface PolicyConfig {
  /** Workers started up front and always kept. */
  coreSize: number;
  /** Most workers (core and growth) while work waits on blocked workers. */
  maxSize: number;
  /** Tasks allowed to wait, a memory cap. */
  maxQueue: number;
  /** Longest expected or actual wait for a worker before a task is refused, ms. */
  maxQueueWaitMs: number;
  /** A worker above the core idle this long is retired, ms. */
  idleTimeoutMs: number;
  /** The machine's cores (available parallelism). */
  cores: number;
  /** Growth workers starting at once (default: the cores, at least 2). */
  growthStartsAtOnce?: number;
}

export type Role = "core" | "growth" | "quick";

/**
 * - `planned`: a growth slot taken, its worker not started yet (growth starts a few at a time);
 * - `starting`: its thread is loading the app;
 * - `idle`, `busy`: ready, without or with tasks;
 * - `restart-wait`: a core slot whose replacement failed to start, waiting out its backoff;
 * - `stopping`: being terminated after its task's time limit; its exit brings the replacement.
 */
export type Lifecycle = "planned" | "starting" | "idle" | "busy" | "restart-wait" | "stopping";

/** What the policy keeps of a task. The pool's own task object extends it. */
export interface PolicyTask extends QueuedTask {
  /** It has a time limit: it never shares a worker, so stopping that worker stops only it. */
  readonly timeLimited: boolean;
  /** The longest it may wait for a worker, ms: the wait limit when it was queued. */
  maxWaitMs: number;
  /** When it left the queue for a worker. */
  dispatchedAt: Instant;
  /** Dispatched as trivial work, so it may share its worker's batch. */
  trivial: boolean;
  /** Sent back to the queue once already because its worker died before it started. */
  retried: boolean;
  /** The worker holding it (0: none). */
  slot: number;
}

/** What the busy workers are seen doing, read by the pool when the policy may grow. */
export interface Look {
  /** The process's CPU use since the last look, as a share of all cores (0–1). */
  cpuShare: number;
  /**
   * The workers inside a task, from their threads: blocked (not runnable for most of the time
   * since last seen in it), computing, or seen in it for the first time. Undefined where the
   * threads cannot be seen; then `looksBlocked` says what the process's CPU use suggests.
   */
  threads: { blocked: number; computing: number; unknown: number } | undefined;
  looksBlocked: boolean;
}

export interface PolicyActions<T extends PolicyTask> {
  /** Start a worker thread in `slot`; report `ready` or `exited`. */
  start(slot: number, role: Role): void;
  /** Send `task` to the worker in `slot` (tasks dispatched in one turn may go in one message). */
  dispatch(task: T, slot: number): void;
  /** Answer `task` with this refusal; it never runs. */
  shed(task: T, refusal: Refusal): void;
  /** End these idle workers; their exits are not reported. */
  retire(slots: number[]): void;
  resized(event: PoolResizeEvent): void;
  /** A core slot's replacement failed to start; it tries again in `retryInMs`. */
  restartFailed(slot: number, attempt: number, retryInMs: number): void;
  /** Call `tick` at `at` (or soon after); a later call replaces an earlier request only if sooner. */
  wakeAt(at: Instant): void;
}

/** What became of the tasks of a worker that exited, as the pool read them from its progress mark. */
export interface ExitReport<T> {
  /** It had loaded the app (else its start failed). */
  wasReady: boolean;
  /** Tasks it never started, to run again (each once at most). */
  requeue: T[];
  /** The task it was running, which may have killed it (not when a stray error did). */
  crashed: T | undefined;
}

/** Most tasks one worker holds at once (running plus waiting in its batch). */
export const maxBatch = 16;
/** How often the policy looks while work waits: short enough that 40 blocked requests wait a tick, not a second. */
export const lookEveryMs = 25;
/** The first look, soon after work starts waiting: time for the busy workers to have begun their tasks. */
export const firstLookMs = 5;
/** A worker is judged on its second sighting in a task, so the look after a first sighting comes sooner. */
export const secondSightingMs = 10;

/** What the policy keeps of one worker. */
export class PolicyWorker<T> {
  held: T[] = [];
  /** Held tasks that were not dispatched as trivial: a worker holding one takes nothing more until idle. */
  unbatchable = 0;
  idleSince = 0 as Instant;
  /** Failed starts in a row (a core slot). */
  failures = 0;
  restartAt = 0 as Instant;

  constructor(
    readonly slot: number,
    readonly role: Role,
    public state: Lifecycle,
  ) {}

  get ready(): boolean {
    return this.state === "idle" || this.state === "busy";
  }

  /** Takes `task` into its batch (a trivial task may share it; any other keeps it to itself). */
  hold(task: T, trivial: boolean): void {
    this.held.push(task);
    if (!trivial) this.unbatchable++;
    this.state = "busy";
  }

  /** Lets go of `task`; false if it did not hold it. */
  release(task: T, trivial: boolean): boolean {
    const index = this.held.indexOf(task);
    if (index < 0) return false;
    this.held.splice(index, 1);
    if (!trivial) this.unbatchable--;
    return true;
  }

  /** Lets go of every task; returns them. */
  releaseAll(): T[] {
    const held = this.held;
    this.held = [];
    this.unbatchable = 0;
    return held;
  }
}
