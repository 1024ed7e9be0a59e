// The workers with nothing to do, core and growth apart. Core workers are handed out first, so
// growth workers sit idle as soon as the load allows and can be retired; each kind is a stack
// (the worker that went idle last is handed out first), so the ones left idle the longest are
// the ones that age out.
import type { WorkerState } from "./worker-state.js";

export class IdleWorkers {
  private readonly core: WorkerState[] = [];
  /** Oldest idle first. */
  private readonly growth: WorkerState[] = [];

  constructor(private readonly coreSize: number) {}

  get count(): number {
    return this.core.length + this.growth.length;
  }

  /** Whether a growth worker is idle (the pool then keeps an eye on retiring it). */
  get growthIdle(): boolean {
    return this.growth.length > 0;
  }

  /** `at`: performance.now(), when it went idle. */
  put(worker: WorkerState, at: number): void {
    worker.inIdle = true;
    if (worker.slot <= this.coreSize) {
      this.core.push(worker);
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

  remove(worker: WorkerState): void {
    if (!worker.inIdle) return;
    worker.inIdle = false;
    const stack = worker.slot <= this.coreSize ? this.core : this.growth;
    const index = stack.indexOf(worker);
    if (index >= 0) stack.splice(index, 1);
  }

  /** Takes the growth workers idle since `cutoff` or before. */
  takeIdleSince(cutoff: number): WorkerState[] {
    let count = 0;
    while (count < this.growth.length && this.growth[count]!.idleSince <= cutoff) count++;
    const taken = this.growth.splice(0, count);
    for (const worker of taken) worker.inIdle = false;
    return taken;
  }

  /** When the growth worker idle the longest went idle, or undefined. */
  get oldestIdleSince(): number | undefined {
    return this.growth[0]?.idleSince;
  }
}
