// The pool's scheduling policy: a pure state machine. Events come in (a task arrived, a worker
// is ready, finished tasks, exited, a tick of the clock), with the time passed in; commands go
// out through `PolicyActions` (start a worker, dispatch a task, shed one, retire workers, wake me
// at). It owns no thread and no timer, so every decision can be unit-tested in virtual time and
// replayed by the simulator; the pool (pool.ts) carries the commands out on real threads.
//
// Workers have a role, given when their slot is taken: the core (slots 1..coreSize) starts up
// front and is replaced forever, with a backoff while replacements cannot start; growth workers
// (the slots above, up to maxSize) start on demand while work waits on blocked workers, a few at
// a time, and are retired when idle; the quick worker (the slot above maxSize) starts when
// tasks that go ahead wait while every worker is held by slow work, and takes only such tasks.
// Each worker is in one lifecycle state at a time (see `Lifecycle`).

import { backoffMs, CrashQuarantine } from "./backoff.js";
import {
  firstLookMs,
  lookEveryMs,
  type ExitReport,
  type Lifecycle,
  type Look,
  maxBatch,
  type PolicyActions,
  type PolicyConfig,
  type PolicyTask,
  PolicyWorker,
  type Role,
  secondSightingMs,
} from "./contract.js";
import type { Refusal } from "./refusal.js";
import { goesAhead, runningLong, type Target, Targets } from "./speed.js";
import { TaskQueue } from "./task-queue.js";
import { after, type Instant } from "./time.js";
import { WaitBudget } from "./wait-budget.js";

export * from "./contract.js";

export class PoolPolicy<T extends PolicyTask> {
  private readonly workers: (PolicyWorker<T> | undefined)[] = [];
  private occupied = 0;
  /** Idle workers any task may take: core ones first, each a stack, so growth workers age out. */
  private readonly idleCore: PolicyWorker<T>[] = [];
  /** Oldest idle first. */
  private readonly idleGrowth: PolicyWorker<T>[] = [];
  private idleQuick: PolicyWorker<T> | undefined;
  private readonly queue = new TaskQueue<T>();
  private readonly targets = new Targets();
  private readonly budget: WaitBudget;
  private readonly quarantine = new CrashQuarantine();
  private readonly growthStartsAtOnce: number;
  /** Growth slots taken whose worker is not started yet, in the order they start. */
  private readonly planned: number[] = [];
  private growthStarting = 0;
  private growthFailures = 0;
  private growthPausedUntil = 0 as Instant;
  /** Core slots whose last starts failed; while one does and no worker is ready, tasks are refused. */
  private failingCores = 0;
  /**
   * Whether the busy workers were found blocked while this queue lasted (undefined: not looked
   * yet). Wait estimates count the room to grow unless they were found computing.
   */
  blocked: boolean | undefined;
  private blockedLooks = 0;
  private lookAt: Instant | undefined;
  private shrinkAt: Instant | undefined;
  /** Retirements not reported yet: workers of one burst go idle over a second or two, and are reported in one event. */
  private shrunk: { from: number; retired: number } | undefined;
  private reportAt: Instant | undefined;
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
    this.growthStartsAtOnce = config.growthStartsAtOnce ?? Math.max(2, config.cores);
  }

  // ---- what the pool reads -------------------------------------------------------------

  /** Workers in the pool, the ones starting or planned included. */
  get size(): number {
    return this.occupied;
  }

  get ready(): number {
    let ready = 0;
    for (const worker of this.workers) if (worker?.ready) ready++;
    return ready;
  }

  get busy(): number {
    let busy = 0;
    for (const worker of this.workers) if (worker && worker.held.length > 0) busy++;
    return busy;
  }

  get queued(): number {
    return this.queue.waiting;
  }

  /** False while no worker is ready and replacements keep failing to start: tasks are refused at once. */
  get available(): boolean {
    return this.failingCores === 0 || this.ready > 0;
  }

  /** Nothing is queued or held. */
  get drained(): boolean {
    return this.queue.waiting === 0 && this.busy === 0;
  }

  /** The tasks the worker in `slot` holds, in the order it runs them. */
  heldBy(slot: number): readonly T[] {
    return this.workers[slot - 1]?.held ?? [];
  }

  stateOf(slot: number): { role: Role; state: Lifecycle } | undefined {
    const worker = this.workers[slot - 1];
    return worker && { role: worker.role, state: worker.state };
  }

  /** The target of this kind and id, as the policy knows it (created on first use). */
  target(kind: number, id: number | string): Target {
    return this.targets.of(kind, id);
  }

  // ---- events ------------------------------------------------------------------------

  /** Starts the core. */
  start(): void {
    for (let slot = 1; slot <= this.config.coreSize; slot++) this.launch(this.take(slot, "core"));
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
    const worker = this.workers[slot - 1];
    if (worker?.state !== "starting") return;
    if (worker.role === "core" && worker.failures > 0) this.failingCores--;
    worker.failures = 0;
    if (worker.role === "growth") {
      this.growthFailures = 0;
      this.growthStarting--;
      this.startPlanned();
    }
    this.becomeIdle(worker, now);
    this.pump(now);
  }

  /** The worker in `slot` finished `task` (ran `runMs`; undefined if it was cancelled before it started). Call `reported` after the last of a message. */
  finished(task: T, runMs: number | undefined, ok: boolean): void {
    const worker = this.workers[task.slot - 1];
    this.release(worker, task);
    if (runMs === undefined) return;
    this.targets.record(task.target, runMs);
    if (ok) this.quarantine.succeeded(task.target);
  }

  /** A held task was taken back before it was sent (cancelled, or it could not be copied). */
  withdrawn(task: T, now: Instant): void {
    const slot = task.slot;
    this.release(this.workers[slot - 1], task);
    this.reported(slot, now);
  }

  /** A worker's message of results was handled: a worker with nothing left is idle, and the queue moves. */
  reported(slot: number, now: Instant): void {
    const worker = this.workers[slot - 1];
    if (worker?.state === "busy" && worker.held.length === 0) this.becomeIdle(worker, now);
    this.pump(now);
  }

  /** The pool stops the worker in `slot` because its task ran out of time; returns what it held. */
  stopping(slot: number): T[] {
    const worker = this.workers[slot - 1];
    if (!worker) return [];
    this.leaveIdle(worker);
    const held = worker.held;
    for (const task of held) task.state = "settled";
    worker.held = [];
    worker.unbatchable = 0;
    worker.state = "stopping";
    return held;
  }

  /** The worker in `slot` exited (not one retired): its tasks, as the pool read them, and its slot refilled or freed. */
  exited(slot: number, report: ExitReport<T>, now: Instant): void {
    const worker = this.workers[slot - 1];
    if (!worker) return;
    this.leaveIdle(worker);
    const stopped = worker.state === "stopping";
    const wasStarting = worker.state === "starting";
    for (const task of worker.held) if (task.state === "held") task.state = "settled";
    worker.held = [];
    worker.unbatchable = 0;
    if (report.crashed) this.quarantine.crashed(report.crashed.target, now);
    for (const task of report.requeue) {
      task.retried = true;
      task.state = "queued";
      task.slot = 0;
    }
    this.queue.pushBack(report.requeue);
    if (worker.role === "growth" && wasStarting) this.growthStarting--;
    if (this.closing) {
      if (worker.role !== "core") this.vacate(worker);
      else worker.state = "stopping";
    } else if (worker.role === "core") {
      if (report.wasReady || stopped) this.launch(worker);
      else this.startFailed(worker, now);
    } else {
      this.vacate(worker);
      if (!report.wasReady && !stopped) this.growthFailed(now);
      this.startPlanned();
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
    for (const worker of this.workers) {
      if (worker?.state === "restart-wait" && worker.restartAt <= now && !this.closing) this.launch(worker);
    }
    if (this.lookAt !== undefined && this.lookAt <= now) this.lookNow(now, look);
    if (this.shrinkAt !== undefined && this.shrinkAt <= now) this.shrink(now);
    if (this.reportAt !== undefined && this.reportAt <= now) this.reportShrink();
    for (const at of [this.lookAt, this.shrinkAt, this.reportAt]) if (at !== undefined) this.wakeAt(at);
    for (const worker of this.workers) if (worker?.state === "restart-wait") this.wakeAt(worker.restartAt);
  }

  /** Stops growing, restarting and retiring; queued tasks still go to workers as they free up. */
  close(): void {
    this.closing = true;
    this.lookAt = this.shrinkAt = this.reportAt = undefined;
    for (const slot of this.planned) this.vacate(this.workers[slot - 1]!);
    this.planned.length = 0;
  }

  /** Empties the queue; returns the tasks that waited. */
  drainQueue(): T[] {
    const tasks = this.queue.drain();
    for (const task of tasks) task.state = "settled";
    return tasks;
  }

  // ---- admission -----------------------------------------------------------------------

  /** Why a task of `target` cannot be taken now, or undefined. */
  private refusal(target: Target, now: Instant): Refusal | undefined {
    if (!this.available) return this.unavailable();
    const quarantined = this.quarantine.refusal(target, now);
    if (quarantined) return quarantined;
    if (this.queue.waiting === 0) return undefined;
    if (this.queue.waiting >= this.config.maxQueue) return { reason: "queue-full", workers: this.occupied, waiting: this.queue.waiting };
    return this.budget.refusal(this.queue, this.heldWorkMs(now), this.capacity(), now);
  }

  private unavailable(): Refusal {
    let attempts = Number.POSITIVE_INFINITY;
    for (const worker of this.workers) if (worker && worker.failures > 0) attempts = Math.min(attempts, worker.failures);
    return { reason: "unavailable", attempts, retryAfterSeconds: Math.max(1, Math.ceil(backoffMs(attempts) / 1000)) };
  }

  /**
   * The workers that will share the queued work: the room to grow counts unless the busy ones
   * were found computing (then only the cores left idle count). Before the first look, a burst is given the benefit of the doubt: if
   * it is CPU-bound, the tasks admitted too many are refused by their wait limit, never later.
   */
  private capacity(): number {
    return this.blocked === false ? this.occupied + this.cpuRoom : this.config.maxSize;
  }

  /** Workers computing work may still add: up to the cores (and the max). */
  private get cpuRoom(): number {
    return Math.max(0, Math.min(this.config.cores, this.config.maxSize) - this.occupied);
  }

  /** The work the busy workers still hold, estimated (ms): the rest of each running task, and all of each one waiting in a batch. */
  private heldWorkMs(now: Instant): number {
    let ms = 0;
    for (const worker of this.workers) {
      if (!worker || worker.held.length === 0) continue;
      const running = worker.held[0]!;
      ms += Math.max(0, running.estimateMs - (now - running.dispatchedAt));
      for (let i = 1; i < worker.held.length; i++) ms += worker.held[i]!.estimateMs;
    }
    return ms;
  }

  // ---- dispatch ------------------------------------------------------------------------

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
      worker.held.push(task);
      if (!task.trivial) worker.unbatchable++;
      worker.state = "busy";
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
    if (task.trivial) {
      let best: PolicyWorker<T> | undefined;
      for (const worker of this.workers) {
        if (worker?.state !== "busy" || worker.unbatchable > 0 || worker.held.length >= maxBatch) continue;
        if (!best || worker.held.length < best.held.length) best = worker;
      }
      if (best) return best;
    }
    const worker = this.idleCore.pop() ?? this.idleGrowth.pop();
    if (worker) return worker;
    if (!this.idleQuick || !goesAhead(speed)) return undefined;
    const quick = this.idleQuick;
    this.idleQuick = undefined;
    return quick;
  }

  private release(worker: PolicyWorker<T> | undefined, task: T): void {
    if (task.state === "held") task.state = "settled";
    if (!worker) return;
    const index = worker.held.indexOf(task);
    if (index < 0) return;
    worker.held.splice(index, 1);
    if (!task.trivial) worker.unbatchable--;
  }

  private becomeIdle(worker: PolicyWorker<T>, now: Instant): void {
    worker.state = "idle";
    worker.idleSince = now;
    if (worker.role === "core") this.idleCore.push(worker);
    else {
      if (worker.role === "growth") this.idleGrowth.push(worker);
      else this.idleQuick = worker;
      if (this.shrinkAt === undefined) this.scheduleShrink(now);
    }
  }

  private leaveIdle(worker: PolicyWorker<T>): void {
    if (worker.state !== "idle") return;
    if (worker === this.idleQuick) this.idleQuick = undefined;
    const list = worker.role === "core" ? this.idleCore : this.idleGrowth;
    const index = list.indexOf(worker);
    if (index >= 0) list.splice(index, 1);
  }

  // ---- workers -------------------------------------------------------------------------

  private take(slot: number, role: Role): PolicyWorker<T> {
    const worker = new PolicyWorker<T>(slot, role, "planned");
    this.workers[slot - 1] = worker;
    this.occupied++;
    return worker;
  }

  private vacate(worker: PolicyWorker<T>): void {
    if (this.workers[worker.slot - 1] !== worker) return;
    this.leaveIdle(worker);
    this.workers[worker.slot - 1] = undefined;
    this.occupied--;
  }

  private launch(worker: PolicyWorker<T>): void {
    worker.state = "starting";
    this.actions.start(worker.slot, worker.role);
  }

  /** A core slot tries again after a backoff, forever; while no worker is ready, tasks are refused at once. */
  private startFailed(worker: PolicyWorker<T>, now: Instant): void {
    if (worker.failures === 0) this.failingCores++;
    worker.failures++;
    worker.state = "restart-wait";
    const retryInMs = backoffMs(worker.failures);
    worker.restartAt = after(now, retryInMs);
    this.actions.restartFailed(worker.slot, worker.failures, retryInMs);
    this.wakeAt(worker.restartAt);
    if (this.available) return;
    const refusal = this.unavailable();
    for (const task of this.drainQueue()) this.actions.shed(task, refusal);
  }

  /** A growth worker could not start: growth waits a backoff, and gives up the slots it had planned (it takes them again if work still waits). */
  private growthFailed(now: Instant): void {
    for (const slot of this.planned) this.vacate(this.workers[slot - 1]!);
    this.planned.length = 0;
    this.growthFailures++;
    this.growthPausedUntil = after(now, backoffMs(this.growthFailures));
  }

  /**
   * Takes up to `count` free growth slots, lowest first; returns how many. A worker takes tens of
   * milliseconds of CPU to start: started all at once, 36 share the cores and all become ready
   * late; a few at a time, they become ready one after another, each taking work as it comes.
   */
  private grow(count: number, now: Instant): number {
    if (now < this.growthPausedUntil || this.closing) return 0;
    let taken = 0;
    for (let slot = this.config.coreSize + 1; slot <= this.config.maxSize && taken < count; slot++) {
      if (this.workers[slot - 1]) continue;
      this.take(slot, "growth");
      this.planned.push(slot);
      taken++;
    }
    this.startPlanned();
    return taken;
  }

  private startPlanned(): void {
    while (this.growthStarting < this.growthStartsAtOnce && this.planned.length > 0 && !this.closing) {
      const worker = this.workers[this.planned.shift()! - 1]!;
      this.growthStarting++;
      this.launch(worker);
    }
  }

  /** Workers planned or starting (they will take tasks soon). */
  private get starting(): number {
    let starting = 0;
    for (const worker of this.workers) if (worker?.state === "planned" || worker?.state === "starting") starting++;
    return starting;
  }

  /** How many more workers growth may take: up to the max, the quick worker apart. */
  private get growthRoom(): number {
    return this.config.maxSize - this.occupied + (this.workers[this.config.maxSize] ? 1 : 0);
  }

  // ---- the clock -----------------------------------------------------------------------

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
      // The episode is over; the next one is judged afresh.
      this.blocked = undefined;
      this.blockedLooks = 0;
      return;
    }
    for (const worker of this.workers) {
      const running = worker?.held[0];
      if (running && running.target.runs === 0 && runningLong(running.dispatchedAt, now)) running.target.seenRunningLong = true;
    }
    // Workers already starting will take tasks; grow by the rest.
    let wanted = Math.min(this.queue.waiting - this.starting, this.growthRoom);
    let nextLookMs = lookEveryMs;
    let mayGrow = false;
    let cpuShare = 0;
    if (wanted > 0) {
      const seen = look();
      cpuShare = seen.cpuShare;
      if (seen.threads === undefined) {
        // Two looks in a row: a worker waiting a moment for its next task (the loop was busy) looks blocked too.
        this.judge(seen.looksBlocked);
        mayGrow = this.blockedLooks >= 2;
      } else if (seen.threads.blocked + seen.threads.computing > 0) {
        // Seen inside their tasks, one look is enough. More workers help while most busy ones
        // are blocked and the ones computing leave a core free; CPU-bound work keeps its
        // workers runnable, so it never grows.
        const { blocked, computing } = seen.threads;
        this.judge(blocked > computing && computing < this.config.cores);
        mayGrow = this.blocked === true;
      } else if (seen.threads.unknown > 0) {
        nextLookMs = secondSightingMs;
      }
      // Computing work may use the cores a core smaller than the machine leaves idle (16 workers on 64 cores), never more.
      if (!mayGrow && this.blocked === false && this.cpuRoom > 0) {
        wanted = Math.min(wanted, this.cpuRoom);
        mayGrow = true;
      }
    }
    if (mayGrow && this.idleCore.length + this.idleGrowth.length === 0) {
      this.reportShrink();
      const from = this.occupied;
      if (this.grow(wanted, now) > 0) {
        this.actions.resized({ kind: "grow", from, to: this.occupied, waiting: this.queue.waiting, cpuShare, cores: this.config.cores });
      }
    }
    if (this.quickTasksStuck(now)) {
      const from = this.occupied;
      const slot = this.config.maxSize + 1;
      this.launch(this.take(slot, "quick"));
      this.actions.resized({ kind: "quick", from, to: this.occupied, slot, waiting: this.queue.waiting });
    }
    this.lookAt = after(now, nextLookMs);
  }

  private judge(blocked: boolean): void {
    this.blocked = blocked;
    this.blockedLooks = blocked ? this.blockedLooks + 1 : 0;
  }

  /**
   * A task that goes ahead waits (of a target that is not what the workers are running), no
   * worker is idle or starting, and every worker is in a task that has run a while: it would wait for the rest of slow work (a 1 s sleeper, a long
   * computation) that no growth is coming to relieve (the pool is at its max, or its workers
   * compute). The quick worker, above the max, serves such tasks alone, for the memory of one
   * more worker.
   */
  private quickTasksStuck(now: Instant): boolean {
    if (this.workers[this.config.maxSize] || this.idleCore.length + this.idleGrowth.length > 0 || now < this.growthPausedUntil) return false;
    if (this.growthRoom > 0 && this.blocked !== false) return false;
    if (this.starting > 0) return false;
    const running = new Set<Target>();
    for (const worker of this.workers) {
      if (!worker?.ready) continue;
      const head = worker.held[0];
      if (head === undefined || !runningLong(head.dispatchedAt, now)) return false;
      running.add(head.target);
    }
    // A flood of a target never seen is what holds the workers: its tasks are no quick work.
    return this.queue.aheadWaiting((target) => !running.has(target));
  }

  /**
   * Looks a little after the longest-idle worker above the core is due, so that the ones that
   * went idle about when it did (the end of one burst) are retired together, in one event.
   */
  private scheduleShrink(now: Instant): void {
    const oldest = Math.min(this.idleGrowth[0]?.idleSince ?? Number.POSITIVE_INFINITY, this.idleQuick?.idleSince ?? Number.POSITIVE_INFINITY);
    if (oldest === Number.POSITIVE_INFINITY || this.closing) return;
    const together = Math.min(1000, this.config.idleTimeoutMs / 4);
    this.shrinkAt = after(now, Math.max(0, oldest + this.config.idleTimeoutMs + together - now));
    this.wakeAt(this.shrinkAt);
  }

  private shrink(now: Instant): void {
    this.shrinkAt = undefined;
    // 1 ms of slack: a timer may fire a fraction of a millisecond before its due time.
    const cutoff = now - this.config.idleTimeoutMs + 1;
    let count = 0;
    while (count < this.idleGrowth.length && this.idleGrowth[count]!.idleSince <= cutoff) count++;
    const retired = this.idleGrowth.splice(0, count);
    if (this.idleQuick && this.idleQuick.idleSince <= cutoff) {
      retired.push(this.idleQuick);
      this.idleQuick = undefined;
    }
    if (retired.length > 0) {
      this.shrunk ??= { from: this.occupied, retired: 0 };
      this.shrunk.retired += retired.length;
      for (const worker of retired) {
        worker.state = "stopping";
        this.vacate(worker);
      }
      this.actions.retire(retired.map((w) => w.slot));
      this.reportAt = after(now, Math.min(1000, this.config.idleTimeoutMs));
    }
    this.scheduleShrink(now);
  }

  private reportShrink(): void {
    this.reportAt = undefined;
    if (!this.shrunk) return;
    const { from, retired } = this.shrunk;
    this.shrunk = undefined;
    this.actions.resized({ kind: "shrink", from, to: this.occupied, retired, idleMs: this.config.idleTimeoutMs });
  }
}
