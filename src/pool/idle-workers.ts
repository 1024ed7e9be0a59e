// The workers with nothing to do, core and growth apart. Core workers are handed out first, so
// growth workers sit idle as soon as the load allows and can be retired; each kind is a stack
// (the worker that went idle last is handed out first), so the ones left idle the longest are
// the ones that age out. The quick worker (the slot above the max, see WorkerSlots) is kept
// apart: only quick tasks may take it, and it is retired like a growth worker.
import type { WorkerState } from "./worker-state.js";

export class IdleWorkers {
  private readonly core: WorkerState[] = [];
  /** Oldest idle first. */
  private readonly growth: WorkerState[] = [];
  private quickWorker: WorkerState | undefined;

  constructor(
    private readonly coreSize: number,
    private readonly maxSize: number,
  ) {}

  /** Idle workers any task may take (the quick worker is not counted). */
  get count(): number {
    return this.core.length + this.growth.length;
  }

  /** `at`: performance.now(), when it went idle. */
  put(worker: WorkerState, at: number): void {
    worker.inIdle = true;
    if (worker.slot <= this.coreSize) {
      this.core.push(worker);
    } else if (worker.slot > this.maxSize) {
      worker.idleSince = at;
      this.quickWorker = worker;
    } else {
      worker.idleSince = at;
      this.growth.push(worker);
    }
  }

  take(): WorkerState | undefined {
    const worker = this.core.pop() ?? this.growth.pop();
    if (worker) worker.inIdle = false;
    return worker;
  }

  /** For a quick task: any idle worker, the quick worker last. */
  takeForQuick(): WorkerState | undefined {
    const worker = this.take() ?? this.quickWorker;
    if (worker === this.quickWorker) this.quickWorker = undefined;
    if (worker) worker.inIdle = false;
    return worker;
  }

  remove(worker: WorkerState): void {
    if (!worker.inIdle) return;
    worker.inIdle = false;
    if (worker === this.quickWorker) {
      this.quickWorker = undefined;
      return;
    }
    const stack = worker.slot <= this.coreSize ? this.core : this.growth;
    const index = stack.indexOf(worker);
    if (index >= 0) stack.splice(index, 1);
  }

  /** Takes the growth workers (and the quick worker) idle since `cutoff` or before. */
  takeIdleSince(cutoff: number): WorkerState[] {
    let count = 0;
    while (count < this.growth.length && this.growth[count]!.idleSince <= cutoff) count++;
    const taken = this.growth.splice(0, count);
    if (this.quickWorker && this.quickWorker.idleSince <= cutoff) {
      taken.push(this.quickWorker);
      this.quickWorker = undefined;
    }
    for (const worker of taken) worker.inIdle = false;
    return taken;
  }

  /** When the growth (or quick) worker idle the longest went idle, or undefined. */
  get oldestIdleSince(): number | undefined {
    const growth = this.growth[0]?.idleSince;
    const quick = this.quickWorker?.idleSince;
    return growth === undefined || quick === undefined ? (growth ?? quick) : Math.min(growth, quick);
  }
}
