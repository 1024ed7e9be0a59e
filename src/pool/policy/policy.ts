// The pool's scheduling policy: a pure state machine. Events come in (a task arrived, a worker
// is ready, finished tasks, exited, a tick of the clock), with the time passed in; commands go
// out through `PolicyActions` (start a worker, dispatch a task, shed one, retire workers, wake me
// at). It owns no thread and no timer, so every decision can be unit-tested in virtual time and
// replayed by the simulator; the pool (pool.ts) carries the commands out on real threads.
//
// A worker's role is given when its slot is taken: the core (slots 1..coreSize) starts up front
// and is replaced forever (core-restarts.ts); growth workers (up to maxSize) start while work
// waits on blocked workers (growth.ts, blocked-judge.ts) and retire when idle (retirement.ts);
// the quick worker (the slot above maxSize) serves tasks that go ahead while every worker is
// held by slow work. Each worker is in one lifecycle state at a time (see `Lifecycle`).

import { CrashQuarantine } from "./backoff.js";
import { BlockedJudge } from "./blocked-judge.js";
import { CoreRestarts } from "./core-restarts.js";
import {
  firstLookMs,
  lookEveryMs,
  type ExitReport,
  type Lifecycle,
  type Look,
  type PolicyActions,
  type PolicyConfig,
  type PolicyTask,
  type PolicyWorker,
  type Role,
} from "./contract.js";
import { Growth } from "./growth.js";
import type { Refusal } from "./refusal.js";
import { Retirement } from "./retirement.js";
import { goesAhead, type Target, Targets } from "./speed.js";
import { TaskQueue } from "./task-queue.js";
import { after, type Instant } from "./time.js";
import { WaitBudget } from "./wait-budget.js";
import { WorkerTable } from "./worker-table.js";

export * from "./contract.js";

export class PoolPolicy<T extends PolicyTask> {
  private readonly workers: WorkerTable<T>;
  private readonly queue = new TaskQueue<T>();
  private readonly targets = new Targets();
  private readonly budget: WaitBudget;
  private readonly quarantine = new CrashQuarantine();
  private readonly growth: Growth<T>;
  private readonly retirement: Retirement<T>;
  private readonly restarts: CoreRestarts<T>;
  private readonly judge: BlockedJudge;
  private lookAt: Instant | undefined;
  private wake: Instant | undefined;
  private closing = false;

  constructor(
    readonly config: PolicyConfig,
    private readonly actions: PolicyActions<T>,
  ) {
    const { coreSize, maxSize } = config;
    if (!Number.isInteger(coreSize) || coreSize < 1) throw new RangeError(`pool size must be a positive integer, got ${coreSize}`);
    if (!Number.isInteger(maxSize) || maxSize < coreSize) {
      throw new RangeError(`the max pool size must be an integer ≥ the pool size (${coreSize}), got ${maxSize}`);
    }
    this.budget = new WaitBudget(config.maxQueueWaitMs);
    this.workers = new WorkerTable<T>(maxSize + 1);
    this.judge = new BlockedJudge(config.cores);
    this.restarts = new CoreRestarts(
      this.workers,
      actions,
      (at) => this.wakeAt(at),
      (worker) => this.launch(worker),
    );
    this.growth = new Growth(config, this.workers, (worker) => this.launch(worker));
    this.retirement = new Retirement(config, this.workers, actions, (at) => this.wakeAt(at));
  }

  /** Workers in the pool, the ones starting or planned included. */
  get size(): number {
    return this.workers.size;
  }

  get ready(): number {
    return this.workers.ready;
  }

  get busy(): number {
    return this.workers.busy;
  }

  get queued(): number {
    return this.queue.waiting;
  }

  /** False while no worker is ready and replacements keep failing to start: tasks are refused at once. */
  get available(): boolean {
    return this.restarts.available;
  }

  /** Whether the busy workers were found blocked while this queue lasted (undefined: not looked yet). */
  get blocked(): boolean | undefined {
    return this.judge.blocked;
  }

  /** Nothing is queued or held. */
  get drained(): boolean {
    return this.queue.waiting === 0 && this.busy === 0;
  }

  /** The tasks the worker in `slot` holds, in the order it runs them. */
  heldBy(slot: number): readonly T[] {
    return this.workers.at(slot)?.held ?? [];
  }

  stateOf(slot: number): { role: Role; state: Lifecycle } | undefined {
    const worker = this.workers.at(slot);
    return worker && { role: worker.role, state: worker.state };
  }

  /** The target of this kind and id, as the policy knows it (created on first use). */
  target(kind: number, id: number | string): Target {
    return this.targets.of(kind, id);
  }

  /** Starts the core. */
  start(): void {
    for (let slot = 1; slot <= this.config.coreSize; slot++) this.launch(this.workers.take(slot, "core"));
  }

  /** A task arrived: queued (and dispatched if a worker can take it), or refused. */
  arrive(task: T, now: Instant): Refusal | undefined {
    const refusal = this.refusal(task.target, now);
    if (refusal) return refusal;
    task.estimateMs = task.target.estimateMs(this.targets.typicalMs);
    task.maxWaitMs = this.budget.limitMs(this.queue, now);
    task.enqueuedAt = now;
    task.state = "queued";
    this.queue.push(task);
    this.pump(now);
    if (this.queue.waiting > 0) this.workWaits(now);
    return undefined;
  }

  /** A queued task left before it ran (cancelled, timed out). */
  left(task: T): void {
    if (task.state !== "queued") return;
    this.queue.left(task);
    task.state = "settled";
  }

  workerReady(slot: number, now: Instant): void {
    const worker = this.workers.at(slot);
    if (worker?.state !== "starting") return;
    if (worker.role === "core") this.restarts.started(worker);
    if (worker.role === "growth") this.growth.ready();
    this.becomeIdle(worker, now);
    this.pump(now);
  }

  /** The worker in `slot` finished `task` (ran `runMs`; undefined if it was cancelled before it started). Call `reported` after the last of a message. */
  finished(task: T, runMs: number | undefined, ok: boolean): void {
    const worker = this.workers.at(task.slot);
    this.release(worker, task);
    if (runMs === undefined) return;
    this.targets.record(task.target, runMs);
    if (ok) this.quarantine.succeeded(task.target);
  }

  /** A held task was taken back before it was sent (cancelled, or it could not be copied). */
  withdrawn(task: T, now: Instant): void {
    const slot = task.slot;
    this.release(this.workers.at(slot), task);
    this.reported(slot, now);
  }

  /** A worker's message of results was handled: a worker with nothing left is idle, and the queue moves. */
  reported(slot: number, now: Instant): void {
    const worker = this.workers.at(slot);
    if (worker?.state === "busy" && worker.held.length === 0) this.becomeIdle(worker, now);
    this.pump(now);
  }

  /** The pool stops the worker in `slot` because its task ran out of time; returns what it held. */
  stopping(slot: number): T[] {
    const worker = this.workers.at(slot);
    if (!worker) return [];
    this.workers.leaveIdle(worker);
    const held = worker.releaseAll();
    for (const task of held) task.state = "settled";
    worker.state = "stopping";
    return held;
  }

  /** The worker in `slot` exited (not one retired): its tasks, as the pool read them, and its slot refilled or freed. */
  exited(slot: number, report: ExitReport<T>, now: Instant): void {
    const worker = this.workers.at(slot);
    if (!worker) return;
    this.workers.leaveIdle(worker);
    const stopped = worker.state === "stopping";
    const wasStarting = worker.state === "starting";
    for (const task of worker.releaseAll()) if (task.state === "held") task.state = "settled";
    if (report.crashed) this.quarantine.crashed(report.crashed.target, now);
    for (const task of report.requeue) {
      task.retried = true;
      task.state = "queued";
      task.slot = 0;
    }
    this.queue.pushBack(report.requeue);
    if (worker.role === "core") {
      if (this.closing) worker.state = "stopping";
      else if (report.wasReady || stopped) this.launch(worker);
      else this.startFailed(worker, now);
    } else {
      this.workers.vacate(worker);
      // A growth or quick worker that could not start pauses growth alike.
      this.growth.exited(worker.role === "growth" && wasStarting, !report.wasReady && !stopped && !this.closing, now);
    }
    this.pump(now);
    if (this.queue.waiting > 0) this.workWaits(now);
  }

  /**
   * The clock: core restarts that are due, a look at the busy workers while work waits (shed
   * what waited too long, grow, start the quick worker), retirement of idle workers above the
   * core. `look` is called only when a growth may follow.
   */
  tick(now: Instant, look: () => Look): void {
    this.wake = undefined;
    this.restarts.tick(now, this.closing);
    if (this.lookAt !== undefined && this.lookAt <= now) this.lookNow(now, look);
    this.retirement.tick(now);
    if (this.lookAt !== undefined) this.wakeAt(this.lookAt);
  }

  /** Stops growing, restarting and retiring; queued tasks still go to workers as they free up. */
  close(): void {
    this.closing = true;
    this.lookAt = undefined;
    this.growth.close();
    this.retirement.close();
  }

  /** Empties the queue; returns the tasks that waited. */
  drainQueue(): T[] {
    const tasks = this.queue.drain();
    for (const task of tasks) task.state = "settled";
    return tasks;
  }

  /** Why a task of `target` cannot be taken now, or undefined. */
  private refusal(target: Target, now: Instant): Refusal | undefined {
    if (!this.available) return this.restarts.refusal();
    const quarantined = this.quarantine.refusal(target, now);
    if (quarantined) return quarantined;
    if (this.queue.waiting === 0) return undefined;
    if (this.queue.waiting >= this.config.maxQueue) return { reason: "queue-full", workers: this.workers.size, waiting: this.queue.waiting };
    return this.budget.refusal(this.queue, this.workers.heldWorkMs(now), this.capacity(), now);
  }

  /**
   * The workers that will share the queued work: the room to grow counts unless the busy ones
   * were found computing (then only the cores left idle count). Before the first look, a burst
   * is given the benefit of the doubt: if it is CPU-bound, the tasks admitted too many are
   * refused by their wait limit, never later.
   */
  private capacity(): number {
    return this.blocked === false ? this.workers.size + this.cpuRoom : this.config.maxSize;
  }

  /** Workers computing work may still add: up to the cores (and the max). */
  private get cpuRoom(): number {
    return Math.max(0, Math.min(this.config.cores, this.config.maxSize) - this.workers.size);
  }

  /** Hands queued tasks to workers that can take them; refuses those that waited past their limit. */
  private pump(now: Instant): void {
    for (let task = this.queue.next(); task !== undefined; task = this.queue.next()) {
      const waitedMs = now - task.enqueuedAt;
      if (waitedMs > task.maxWaitMs) {
        this.queue.take(task);
        task.state = "settled";
        this.actions.shed(task, this.budget.late(this.queue, waitedMs, task.maxWaitMs, now));
        continue;
      }
      const worker = this.workerFor(task);
      if (!worker) break;
      this.queue.take(task);
      task.state = "held";
      task.slot = worker.slot;
      task.dispatchedAt = now;
      worker.hold(task, task.trivial);
      this.actions.dispatch(task, worker.slot);
    }
  }

  /**
   * A trivial task joins the least-loaded awake worker that holds only trivial tasks and has
   * room (waking a sleeping thread costs more than the task); any other task waits for an idle
   * worker, so a slow task never holds back another behind it. The quick worker takes only tasks
   * that go ahead.
   */
  private workerFor(task: T): PolicyWorker<T> | undefined {
    const speed = task.target.speed;
    task.trivial = speed === "trivial" && !task.timeLimited;
    return (task.trivial ? this.workers.batchHost() : undefined) ?? this.workers.takeIdle(goesAhead(speed));
  }

  private release(worker: PolicyWorker<T> | undefined, task: T): void {
    if (task.state === "held") task.state = "settled";
    worker?.release(task, task.trivial);
  }
  private becomeIdle(worker: PolicyWorker<T>, now: Instant): void {
    this.workers.becomeIdle(worker, now);
    if (worker.role !== "core") this.retirement.wentIdle(now);
  }

  private launch(worker: PolicyWorker<T>): void {
    worker.state = "starting";
    this.actions.start(worker.slot, worker.role);
  }

  /** A core slot tries again after a backoff, forever; while no worker is ready, tasks are refused at once. */
  private startFailed(worker: PolicyWorker<T>, now: Instant): void {
    this.restarts.failed(worker, now);
    if (this.available) return;
    const refusal = this.restarts.refusal();
    for (const task of this.drainQueue()) this.actions.shed(task, refusal);
  }

  private wakeAt(at: Instant): void {
    if (this.wake !== undefined && this.wake <= at) return;
    this.wake = at;
    this.actions.wakeAt(at);
  }

  /** Work waits with no idle worker: look soon, then every tick until the queue is empty. */
  private workWaits(now: Instant): void {
    if (this.lookAt !== undefined || this.closing) return;
    this.lookAt = after(now, firstLookMs);
    this.wakeAt(this.lookAt);
  }

  private lookNow(now: Instant, look: () => Look): void {
    this.lookAt = undefined;
    this.pump(now);
    if (this.queue.waiting === 0) {
      this.judge.reset();
      return;
    }
    this.workers.markLongFirstRuns(now);
    // Workers already starting will take tasks; grow by the rest.
    let wanted = Math.min(this.queue.waiting - this.workers.starting, this.growth.room);
    let nextLookMs = lookEveryMs;
    let mayGrow = false;
    let cpuShare = 0;
    if (wanted > 0) {
      const seen = look();
      cpuShare = seen.cpuShare;
      ({ helps: mayGrow, nextLookMs } = this.judge.see(seen));
      // Computing work may use the cores a core smaller than the machine leaves idle (16 workers on 64 cores), never more.
      if (!mayGrow && this.blocked === false && this.cpuRoom > 0) {
        wanted = Math.min(wanted, this.cpuRoom);
        mayGrow = true;
      }
    }
    if (mayGrow && this.workers.idle === 0) {
      this.retirement.report();
      const from = this.workers.size;
      if (this.growth.grow(wanted, now) > 0) {
        this.actions.resized({ kind: "grow", from, to: this.workers.size, waiting: this.queue.waiting, cpuShare, cores: this.config.cores });
      }
    }
    if (this.quickTasksStuck(now)) {
      const from = this.workers.size;
      const slot = this.workers.quickSlot;
      this.launch(this.workers.take(slot, "quick"));
      this.actions.resized({ kind: "quick", from, to: this.workers.size, slot, waiting: this.queue.waiting });
    }
    this.lookAt = after(now, nextLookMs);
  }

  /**
   * A task that goes ahead waits (of a target that is not what the workers are running), no
   * worker is idle or starting, and every worker is in a task that has run a while: it would wait for the rest of slow work (a 1 s sleeper, a long
   * computation) that no growth is coming to relieve (the pool is at its max, or its workers
   * compute). The quick worker, above the max, serves such tasks alone, for the memory of one
   * more worker.
   */
  private quickTasksStuck(now: Instant): boolean {
    if (this.workers.hasQuick || this.workers.idle > 0 || this.growth.paused(now)) return false;
    if (this.growth.room > 0 && this.blocked !== false) return false;
    if (this.workers.starting > 0) return false;
    const running = this.workers.runningLong(now);
    if (!running) return false;
    // A flood of a target never seen is what holds the workers: its tasks are no quick work.
    return this.queue.aheadWaiting((target) => !running.has(target));
  }
}
