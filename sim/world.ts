// A virtual machine for the pool's policy: the same PoolPolicy the server runs, driven in
// virtual time by a model of the cores (runnable threads share them evenly) and of what a worker
// costs to start (CPU, a little wall time, memory). No thread and no timer: a 64-core machine
// with 4,000 requests in flight runs here in well under a second.

import { type Look, type PolicyActions, type PolicyConfig, type PolicyTask, PoolPolicy } from "../src/pool/policy/policy.ts";
import type { Target } from "../src/pool/policy/speed.ts";
import { instant } from "../src/pool/policy/time.ts";
import type { PoolResizeEvent } from "../src/pool/pool-options.ts";

/** What one worker and the process cost, measured on a machine (see calibration.ts). */
export interface MachineModel {
  cores: number;
  /** CPU one worker uses to load the app, ms. */
  workerStartCpuMs: number;
  /** Wall time a start takes beyond its CPU (thread creation, file reads), ms. */
  workerStartWallMs: number;
  /** Memory one worker adds, MB. */
  workerMb: number;
  /** Memory of the process with no worker, MB. */
  processMb: number;
  /** Main-thread to worker and back, ms (message hops; tiny beside any real task). */
  hopMs: number;
}

/** One request's work on its worker: a blocking wait (sleep, sync I/O) and CPU, in that order. */
export interface Work {
  route: string;
  sleepMs?: number;
  cpuMs?: number;
}

export interface Arrival {
  at: number;
  work: Work;
  /** Named requests are reported by name (e.g. the quick request). */
  name?: string;
}

export interface SimResult {
  /** When the last request was answered (200 or 503), ms. */
  lastDoneMs: number;
  /** Latency of each named request, ms (undefined if refused). */
  named: Record<string, number | undefined>;
  answered: number;
  refused: number;
  peakWorkers: number;
  peakMb: number;
  /** Workers started beyond the core (growth and quick). */
  workersStarted: number;
  resizes: PoolResizeEvent[];
}

interface SimTask extends PolicyTask {
  work: Work;
  arrivedAt: number;
  name: string | undefined;
}

interface CpuJob {
  remainingMs: number;
  done: () => void;
}

interface SimWorker {
  slot: number;
  ready: boolean;
  queue: SimTask[];
  running: SimTask | undefined;
  /** What the running task does now. */
  doing: "sleep" | "cpu" | undefined;
  /** The task this worker was last seen blocked in, by a look. */
  seenIn: SimTask | undefined;
}

/** A min-heap of timed events; ties keep their order of scheduling. */
class Timeline {
  private readonly heap: { at: number; seq: number; run: () => void }[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  get next(): number {
    return this.heap[0]?.at ?? Number.POSITIVE_INFINITY;
  }

  add(at: number, run: () => void): void {
    const heap = this.heap;
    heap.push({ at, seq: this.seq++, run });
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  pop(): () => void {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < heap.length && this.before(l, min)) min = l;
        if (r < heap.length && this.before(r, min)) min = r;
        if (min === i) break;
        [heap[i], heap[min]] = [heap[min]!, heap[i]!];
        i = min;
      }
    }
    return top.run;
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    return x.at < y.at || (x.at === y.at && x.seq < y.seq);
  }
}

export class SimWorld {
  private now = 0;
  private readonly timeline = new Timeline();
  private readonly cpuJobs = new Set<CpuJob>();
  private readonly workers = new Map<number, SimWorker>();
  private readonly policy: PoolPolicy<SimTask>;
  private wake: number | undefined;
  private nextId = 1;
  private cpuUsedMs = 0;
  private lastLook = { at: 0, cpuUsedMs: 0 };
  private pending = 0;
  private readonly result: SimResult = {
    lastDoneMs: 0,
    named: {},
    answered: 0,
    refused: 0,
    peakWorkers: 0,
    peakMb: 0,
    workersStarted: 0,
    resizes: [],
  };
  private readonly routes = new Map<string, Target>();

  constructor(
    private readonly model: MachineModel,
    config: Omit<PolicyConfig, "cores">,
  ) {
    this.policy = new PoolPolicy<SimTask>({ ...config, cores: model.cores }, this.actions());
  }

  /** Runs the arrivals until every request is answered (or `limitMs` of virtual time passed). */
  run(arrivals: readonly Arrival[], limitMs = 600_000): SimResult {
    this.policy.start();
    this.notePeak();
    for (const arrival of arrivals) {
      this.pending++;
      this.timeline.add(arrival.at, () => this.arrive(arrival));
    }
    while (this.pending > 0 && this.now < limitMs) {
      const rate = this.cpuRate();
      let nextCpu = Number.POSITIVE_INFINITY;
      for (const job of this.cpuJobs) nextCpu = Math.min(nextCpu, this.now + job.remainingMs / rate);
      const next = Math.min(nextCpu, this.timeline.next);
      if (next === Number.POSITIVE_INFINITY) break;
      this.advance(next, rate);
      if (nextCpu <= this.timeline.next) {
        for (const job of [...this.cpuJobs]) {
          if (job.remainingMs <= 1e-9) {
            this.cpuJobs.delete(job);
            job.done();
          }
        }
      } else this.timeline.pop()();
    }
    return this.result;
  }

  /** The share of a core each runnable thread gets. */
  private cpuRate(): number {
    return Math.min(1, this.model.cores / Math.max(1, this.cpuJobs.size));
  }

  private advance(to: number, rate: number): void {
    const elapsed = to - this.now;
    if (elapsed > 0) {
      for (const job of this.cpuJobs) job.remainingMs = Math.max(0, job.remainingMs - elapsed * rate);
      this.cpuUsedMs += elapsed * rate * this.cpuJobs.size;
    }
    this.now = to;
  }

  private compute(ms: number, done: () => void): void {
    if (ms <= 0) this.timeline.add(this.now, done);
    else this.cpuJobs.add({ remainingMs: ms, done });
  }

  private arrive(arrival: Arrival): void {
    let target = this.routes.get(arrival.work.route);
    if (!target) this.routes.set(arrival.work.route, (target = this.policy.target(0, arrival.work.route)));
    const task: SimTask = {
      id: this.nextId++,
      target,
      work: arrival.work,
      arrivedAt: this.now,
      name: arrival.name,
      state: "queued",
      enqueuedAt: instant(this.now),
      estimateMs: 0,
      maxWaitMs: 0,
      dispatchedAt: instant(0),
      timeLimited: false,
      trivial: false,
      retried: false,
      slot: 0,
    };
    const refusal = this.policy.arrive(task, instant(this.now));
    if (refusal) this.answer(task, false);
  }

  private answer(task: SimTask, ok: boolean): void {
    this.pending--;
    this.result.lastDoneMs = Math.max(this.result.lastDoneMs, this.now);
    if (ok) this.result.answered++;
    else this.result.refused++;
    if (task.name) this.result.named[task.name] = ok ? this.now - task.arrivedAt : undefined;
  }

  private actions(): PolicyActions<SimTask> {
    return {
      start: (slot) => {
        const worker: SimWorker = { slot, ready: false, queue: [], running: undefined, doing: undefined, seenIn: undefined };
        this.workers.set(slot, worker);
        if (this.policy.stateOf(slot)?.role !== "core") this.result.workersStarted++;
        this.notePeak();
        this.compute(this.model.workerStartCpuMs, () =>
          this.timeline.add(this.now + this.model.workerStartWallMs, () => {
            if (this.workers.get(slot) !== worker) return;
            worker.ready = true;
            this.policy.workerReady(slot, instant(this.now));
          }),
        );
      },
      dispatch: (task, slot) => {
        const worker = this.workers.get(slot)!;
        worker.queue.push(task);
        this.timeline.add(this.now + this.model.hopMs / 2, () => this.runNext(worker));
      },
      shed: (task) => this.answer(task, false),
      retire: (slots) => {
        for (const slot of slots) this.workers.delete(slot);
      },
      resized: (event) => {
        this.result.resizes.push(event);
        this.notePeak();
      },
      restartFailed: () => {},
      wakeAt: (at) => {
        if (this.wake !== undefined && this.wake <= at) return;
        this.wake = at;
        this.timeline.add(Math.max(this.now, at), () => {
          if (this.wake !== at) return; // replaced by a sooner one
          this.wake = undefined;
          this.policy.tick(instant(this.now), () => this.look());
        });
      },
    };
  }

  private runNext(worker: SimWorker): void {
    if (worker.running || worker.queue.length === 0) return;
    const task = worker.queue.shift()!;
    worker.running = task;
    const startedAt = this.now;
    const finish = () => {
      worker.running = undefined;
      worker.doing = undefined;
      const runMs = this.now - startedAt;
      this.timeline.add(this.now + this.model.hopMs / 2, () => {
        this.policy.finished(task, runMs, true);
        this.answer(task, true);
        this.policy.reported(worker.slot, instant(this.now));
      });
      this.runNext(worker);
    };
    const compute = () => {
      worker.doing = "cpu";
      this.compute(task.work.cpuMs ?? 0, finish);
    };
    if (task.work.sleepMs) {
      worker.doing = "sleep";
      this.timeline.add(this.now + task.work.sleepMs, compute);
    } else compute();
  }

  /** What the pool's look would see: workers blocked in a task (on a second sighting), computing, or seen once. */
  private look(): Look {
    const threads = { blocked: 0, computing: 0, unknown: 0 };
    for (const worker of this.workers.values()) {
      if (!worker.running) continue;
      if (worker.doing === "cpu") threads.computing++;
      else if (worker.seenIn === worker.running) threads.blocked++;
      else threads.unknown++;
      worker.seenIn = worker.running;
    }
    const elapsed = this.now - this.lastLook.at;
    const cpuShare = elapsed > 0 ? (this.cpuUsedMs - this.lastLook.cpuUsedMs) / elapsed / this.model.cores : 0;
    this.lastLook = { at: this.now, cpuUsedMs: this.cpuUsedMs };
    return { cpuShare, threads, looksBlocked: false };
  }

  private notePeak(): void {
    const workers = this.policy.size;
    this.result.peakWorkers = Math.max(this.result.peakWorkers, workers);
    this.result.peakMb = Math.max(this.result.peakMb, this.model.processMb + workers * this.model.workerMb);
  }
}
