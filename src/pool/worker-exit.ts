// What became of the tasks a worker held when it died, read from its progress mark.
import { WorkerCrashedError } from "./pool-errors.js";
import type { PendingTask } from "./pending-task.js";
import type { WorkerState } from "./worker-state.js";

export interface HeldTasks {
  /** Never started, first time: they go back to the queue. */
  requeue: PendingTask[];
  /** Each with the error it fails with. */
  failed: [PendingTask, WorkerCrashedError][];
  /** The task that was running when the worker died, if any (also in `failed`). */
  running: PendingTask | undefined;
}

/**
 * A task the worker had finished but whose result was lost fails (it must not run twice); the
 * one it was running fails, blamed on the worker when an error left behind by earlier work
 * killed it; the ones it never started go back to the queue, once.
 */
export function heldTasksAtExit(worker: WorkerState, held: readonly PendingTask[], cause: string): HeldTasks {
  const lastStarted = worker.lastStarted;
  const stray = worker.strayError !== undefined;
  const tasks: HeldTasks = { requeue: [], failed: [], running: undefined };
  for (const task of held) {
    if (task.state !== "held") continue;
    const queuedMs = task.dispatchedAt - task.enqueuedAt;
    if (task.id > lastStarted && !task.retried) {
      tasks.requeue.push(task);
    } else if (task.id > lastStarted) {
      tasks.failed.push([task, new WorkerCrashedError(`its worker died before it started, twice (${cause})`, worker.slot, queuedMs, "retry")]);
    } else if (task.id < lastStarted) {
      const message = `worker#${worker.slot} died after running it, and its result was lost (${cause})`;
      tasks.failed.push([task, new WorkerCrashedError(message, worker.slot, queuedMs, "lost")]);
    } else {
      tasks.running = task;
      const message = stray
        ? `worker#${worker.slot} died while running it, of an error left behind by earlier work (${cause}); see the worker-exit log line`
        : `worker#${worker.slot} died while running it (${cause})`;
      tasks.failed.push([task, new WorkerCrashedError(message, worker.slot, queuedMs, stray ? "stray" : "task")]);
    }
  }
  return tasks;
}
