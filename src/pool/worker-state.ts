// One pool worker's thread as the main thread sees it: the thread, how it loaded the app, the
// tasks dispatched to it this turn, and the shared progress mark it writes. Which tasks it holds
// and whether it may take more is the policy's (policy/policy.ts).
import type { Worker } from "node:worker_threads";
import type { MainToWorker, TaskMessage } from "./protocol.js";

export class WorkerState {
  ready = false;
  /** Set once it has loaded the app (it stays set after the worker dies). */
  startedUp = false;
  /** Tasks dispatched this turn, sent as one message when the turn ends. */
  outbox: TaskMessage[] = [];
  /** Set when the pool terminates this worker because its task timed out. */
  stoppedForTimeout = false;
  /** Set when the worker reported an error it did not catch (left behind by earlier work). */
  strayError: Error | undefined;
  /** Set when the pool ends this worker on purpose (idle above the core): its exit is no crash. */
  retired = false;
  /** How it was asked to load the app (an index into WorkerThreads' loaders), and its replacement's start if that failed (see WorkerThreads). */
  loader = 0;
  fallback: Promise<void> | undefined;
  /** What it registered on loading the app (routes, blocking functions, shared memory), as signature lines. */
  signature: readonly string[] = [];
  /** Its OS thread id, where the worker could tell (Linux). */
  tid: number | undefined;
  private readonly progress: Int32Array;

  constructor(
    readonly slot: number,
    readonly worker: Worker,
    readonly progressBuffer: SharedArrayBuffer,
  ) {
    this.progress = new Int32Array(progressBuffer);
  }

  /**
   * The caller cancelled task `id`, which this worker holds. Not sent yet: it is taken out of the
   * outbox (returns true). Sent: the worker is told, by message and by the shared abort mark a
   * busy thread can still read (see task-signal.ts).
   */
  cancel(id: number): boolean {
    const index = this.outbox.findIndex((m) => m.id === id);
    if (index >= 0) {
      this.outbox.splice(index, 1);
      return true;
    }
    Atomics.store(this.progress, 1, id);
    this.worker.postMessage({ type: "abort", id } satisfies MainToWorker);
    return false;
  }

  /**
   * Whether the worker is inside task `id` (the first it holds): started, not finished. Such a
   * worker whose thread is not runnable is blocked (sleeping, waiting on I/O), not computing.
   */
  inTask(id: number): boolean {
    return Atomics.load(this.progress, 0) === id && Atomics.load(this.progress, 2) !== id;
  }

  /** The id of the task the worker last started (0: none yet). */
  get lastStarted(): number {
    return Atomics.load(this.progress, 0);
  }

  /**
   * Sends this turn's tasks in one message. If the batch cannot be copied (one payload nested
   * too deep, or holding a function), each goes alone; returns the ids of the ones that could
   * not go, with why.
   */
  sendOutbox(): [number, string][] {
    const tasks = this.outbox;
    this.outbox = [];
    try {
      this.worker.postMessage({ type: "tasks", tasks } satisfies MainToWorker);
      return [];
    } catch {
      const refused: [number, string][] = [];
      for (const message of tasks) {
        try {
          this.worker.postMessage({ type: "tasks", tasks: [message] } satisfies MainToWorker);
        } catch (error) {
          refused.push([message.id, error instanceof Error ? error.message : String(error)]);
        }
      }
      return refused;
    }
  }
}
