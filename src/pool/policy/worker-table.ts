// The policy's table of workers: which slots are taken and by what role, and which workers are
// idle. Part of the pure policy (no thread, no timer); the decisions are policy.ts's.
import { maxBatch, PolicyWorker, type Role } from "./contract.js";
import { runningLong, type Target } from "./speed.js";
import type { Instant } from "./time.js";

interface HeldTask {
  estimateMs: number;
  dispatchedAt: Instant;
  target: Target;
}

export class WorkerTable<T extends HeldTask> {
  private readonly slots: (PolicyWorker<T> | undefined)[] = [];
  private occupied = 0;
  /** Idle workers any task may take: core ones first, each a stack, so growth workers age out. */
  private readonly idleCore: PolicyWorker<T>[] = [];
  /** Oldest idle first. */
  private readonly idleGrowth: PolicyWorker<T>[] = [];
  private idleQuick: PolicyWorker<T> | undefined;

  /** `quickSlot`: the slot above the max that the quick worker takes. */
  constructor(readonly quickSlot: number) {}

  *[Symbol.iterator](): IterableIterator<PolicyWorker<T>> {
    for (const worker of this.slots) if (worker) yield worker;
  }

  at(slot: number): PolicyWorker<T> | undefined {
    return this.slots[slot - 1];
  }

  /** Workers in the pool, the ones starting or planned included. */
  get size(): number {
    return this.occupied;
  }

  get ready(): number {
    return this.count((worker) => worker.ready);
  }

  get busy(): number {
    return this.count((worker) => worker.held.length > 0);
  }

  /** Workers planned or starting (they will take tasks soon). */
  get starting(): number {
    return this.count((worker) => worker.state === "planned" || worker.state === "starting");
  }

  /** Idle workers that any task may take. */
  get idle(): number {
    return this.idleCore.length + this.idleGrowth.length;
  }

  get hasQuick(): boolean {
    return this.at(this.quickSlot) !== undefined;
  }

  take(slot: number, role: Role): PolicyWorker<T> {
    const worker = new PolicyWorker<T>(slot, role, "planned");
    this.slots[slot - 1] = worker;
    this.occupied++;
    return worker;
  }

  vacate(worker: PolicyWorker<T>): void {
    if (this.at(worker.slot) !== worker) return;
    this.leaveIdle(worker);
    this.slots[worker.slot - 1] = undefined;
    this.occupied--;
  }

  /** The lowest free slots from `first` to `last`, at most `count`. */
  freeSlots(first: number, last: number, count: number): number[] {
    const free: number[] = [];
    for (let slot = first; slot <= last && free.length < count; slot++) if (!this.at(slot)) free.push(slot);
    return free;
  }

  becomeIdle(worker: PolicyWorker<T>, now: Instant): void {
    worker.state = "idle";
    worker.idleSince = now;
    if (worker.role === "core") this.idleCore.push(worker);
    else if (worker.role === "growth") this.idleGrowth.push(worker);
    else this.idleQuick = worker;
  }

  leaveIdle(worker: PolicyWorker<T>): void {
    if (worker.state !== "idle") return;
    if (worker === this.idleQuick) this.idleQuick = undefined;
    const list = worker.role === "core" ? this.idleCore : this.idleGrowth;
    const index = list.indexOf(worker);
    if (index >= 0) list.splice(index, 1);
  }

  /** An idle worker for any task (core first, then the growth worker idle the shortest), or the quick worker if `ahead`. */
  takeIdle(ahead: boolean): PolicyWorker<T> | undefined {
    const worker = this.idleCore.pop() ?? this.idleGrowth.pop();
    if (worker || !ahead) return worker;
    const quick = this.idleQuick;
    this.idleQuick = undefined;
    return quick;
  }

  /** The least-loaded awake worker that holds only trivial tasks and has room in its batch. */
  batchHost(): PolicyWorker<T> | undefined {
    let best: PolicyWorker<T> | undefined;
    for (const worker of this) {
      if (worker.state !== "busy" || worker.unbatchable > 0 || worker.held.length >= maxBatch) continue;
      if (!best || worker.held.length < best.held.length) best = worker;
    }
    return best;
  }

  /** The work the busy workers still hold, estimated (ms): the rest of each running task, and all of each one waiting in a batch. */
  heldWorkMs(now: Instant): number {
    let ms = 0;
    for (const worker of this) {
      const [running, ...batched] = worker.held;
      if (!running) continue;
      ms += Math.max(0, running.estimateMs - (now - running.dispatchedAt));
      for (const task of batched) ms += task.estimateMs;
    }
    return ms;
  }

  /** The targets the ready workers run, if every one is in a task that has run a while (else undefined). */
  runningLong(now: Instant): Set<Target> | undefined {
    const running = new Set<Target>();
    for (const worker of this) {
      if (!worker.ready) continue;
      const head = worker.held[0];
      if (head === undefined || !runningLong(head.dispatchedAt, now)) return undefined;
      running.add(head.target);
    }
    return running;
  }

  /** Marks the targets never run to their end whose first task has run a while: they are no quick work. */
  markLongFirstRuns(now: Instant): void {
    for (const worker of this) {
      const running = worker.held[0];
      if (running && running.target.runs === 0 && runningLong(running.dispatchedAt, now)) running.target.seenRunningLong = true;
    }
  }

  /** When the longest-idle worker above the core went idle (undefined: none is idle). */
  get oldestIdleAboveCore(): Instant | undefined {
    const since = Math.min(this.idleGrowth[0]?.idleSince ?? Number.POSITIVE_INFINITY, this.idleQuick?.idleSince ?? Number.POSITIVE_INFINITY);
    return since === Number.POSITIVE_INFINITY ? undefined : (since as Instant);
  }

  /** Takes the workers above the core idle since `cutoff` or before out of the idle lists. */
  idleAboveCoreSince(cutoff: number): PolicyWorker<T>[] {
    let count = 0;
    while (count < this.idleGrowth.length && this.idleGrowth[count]!.idleSince <= cutoff) count++;
    const found = this.idleGrowth.splice(0, count);
    if (this.idleQuick && this.idleQuick.idleSince <= cutoff) {
      found.push(this.idleQuick);
      this.idleQuick = undefined;
    }
    return found;
  }

  private count(test: (worker: PolicyWorker<T>) => boolean): number {
    let count = 0;
    for (const worker of this) if (test(worker)) count++;
    return count;
  }
}
