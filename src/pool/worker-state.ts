// One pool worker as the main thread sees it: the thread, whether it can take tasks, and the
// tasks it holds in the order it runs them.
import type { Worker } from "node:worker_threads";
import type { CancelSignal } from "./pool-options.js";
import type { MainToWorker, TaskMessage } from "./protocol.js";

/** What the pool keeps about a task while it waits or runs. */
export interface PendingTask {
  id: number;
  kind: number;
  target: number | string;
  payload: unknown;
  /** Epoch ms (performance.timeOrigin + now), comparable with the worker's clock. */
  enqueuedAt: number;
  /** When it left the queue for a worker, epoch ms. */
  dispatchedAt: number;
  /** Its target is known to finish quickly, so it may wait in a busy worker's batch. */
  fast: boolean;
  /** Its target is known to take a few milliseconds at most: it may go ahead of slower waiting work. */
  quick: boolean;
  state: "queued" | "running" | "settled";
  /** Sent back to the queue once already because its worker died before it started. */
  retried: boolean;
  timer: NodeJS.Timeout | undefined;
  /** The longest it may wait for a worker, ms: the wait limit when it was queued (see WaitBudget). */
  maxWaitMs: number;
  /** Its wait as estimated when queued (the target's measured run time), counted in the pool's wait budget. */
  estimateMs: number;
  /** The caller's cancel signal and the listener the pool added to it, when it gave one. */
  signal: CancelSignal | undefined;
  onAbort: (() => void) | undefined;
  context: unknown;
  resolve: (outcome: never) => void;
  reject: (error: Error) => void;
}

/**
 * The worker writes the id of the task it starts into `progress` (shared memory, one store per
 * task). When it dies, that tells the pool, for each task it held, whether it had finished,
 * was running, or never started, even if no message got out.
 */
export class WorkerState {
  ready = false;
  /** Set once it has loaded the app (it stays set after the worker dies). */
  startedUp = false;
  /** Tasks sent to this worker, in the order it runs them. */
  inFlight: PendingTask[] = [];
  /** How many of them are not fast; a worker holding one takes nothing more until it is idle. */
  slowInFlight = 0;
  /** Tasks dispatched this tick, sent as one message when the tick ends. */
  outbox: TaskMessage[] = [];
  /** Set when the pool terminates this worker because its task timed out. */
  stoppedForTimeout = false;
  /** Set when the worker reported an error it did not catch (left behind by earlier work). */
  strayError: Error | undefined;
  /** Set when the pool ends this worker on purpose (idle above the core): its exit is no crash. */
  retired = false;
  /** How it was asked to load the app (an index into WorkerSlots' loaders), and its replacement's start if that failed (see WorkerSlots). */
  loader = 0;
  fallback: Promise<void> | undefined;
  /** Its OS thread id, where the worker could tell (Linux). */
  tid: number | undefined;
  /** Whether it is among the pool's idle workers (IdleWorkers keeps it). */
  inIdle = false;
  /** When it last became idle (performance.now()), for retiring idle workers above the core. */
  idleSince = 0;
  private readonly progress: Int32Array;

  constructor(
    readonly slot: number,
    readonly worker: Worker,
    readonly progressBuffer: SharedArrayBuffer,
  ) {
    this.progress = new Int32Array(progressBuffer);
  }

  assign(task: PendingTask): void {
    this.inFlight.push(task);
    if (!task.fast) this.slowInFlight++;
    const message: TaskMessage = { id: task.id, kind: task.kind as TaskMessage["kind"], target: task.target, payload: task.payload };
    if (task.signal) message.abortable = true;
    if (task.context !== undefined) message.context = task.context;
    this.outbox.push(message);
  }

  /**
   * The caller cancelled a task this worker holds. Not sent yet: it is taken back (returns
   * true). Sent: the worker is told, by message and by the shared abort mark a busy thread can
   * still read (see task-signal.ts).
   */
  cancel(task: PendingTask): boolean {
    const index = this.outbox.findIndex((m) => m.id === task.id);
    if (index >= 0) {
      this.outbox.splice(index, 1);
      this.take(task.id);
      return true;
    }
    Atomics.store(this.progress, 1, task.id);
    this.worker.postMessage({ type: "abort", id: task.id } satisfies MainToWorker);
    return false;
  }

  /** Removes and returns the task with this id, or undefined if it was already answered. */
  take(id: number): PendingTask | undefined {
    const index = this.inFlight.findIndex((t) => t.id === id);
    if (index < 0) return undefined;
    const task = this.inFlight[index]!;
    this.inFlight.splice(index, 1);
    if (!task.fast) this.slowInFlight--;
    return task;
  }

  /** Empties the worker's hands; returns what it held that is still unanswered. */
  clear(): PendingTask[] {
    const held = this.inFlight.filter((t) => t.state === "running");
    this.inFlight = [];
    this.slowInFlight = 0;
    this.outbox = [];
    return held;
  }

  /**
   * Whether the worker is inside the task it holds first: started, not finished. Such a worker
   * whose thread is not runnable is blocked (sleeping, waiting on I/O), not computing.
   */
  get inTask(): boolean {
    const head = this.inFlight[0];
    return head !== undefined && Atomics.load(this.progress, 0) === head.id && Atomics.load(this.progress, 2) !== head.id;
  }

  /** The id of the task the worker last started (0: none yet). */
  get lastStarted(): number {
    return Atomics.load(this.progress, 0);
  }

  /**
   * Sends this tick's tasks in one message. If the batch cannot be copied (one payload nested
   * too deep, or holding a function), each goes alone; returns the ones that could not go,
   * taken out of `inFlight`, with why.
   */
  sendOutbox(): [PendingTask, string][] {
    const tasks = this.outbox;
    this.outbox = [];
    try {
      this.worker.postMessage({ type: "tasks", tasks } satisfies MainToWorker);
      return [];
    } catch {
      const refused: [PendingTask, string][] = [];
      for (const message of tasks) {
        try {
          this.worker.postMessage({ type: "tasks", tasks: [message] } satisfies MainToWorker);
        } catch (error) {
          const task = this.take(message.id);
          if (task) refused.push([task, error instanceof Error ? error.message : String(error)]);
        }
      }
      return refused;
    }
  }

  /** Whether a fast task may join this worker's batch. */
  canBatch(maxBatch: number): boolean {
    return this.ready && this.inFlight.length > 0 && this.slowInFlight === 0 && this.inFlight.length < maxBatch;
  }
}
