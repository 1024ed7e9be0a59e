// What every lane that leaves the loop needs from the worker pool, and nothing more: run a task,
// get its outcome. The pool implements it; a test can give an in-process one (no threads).
import type { RunOptions, TaskOutcome } from "../pool/pool-options.js";
import type { TaskKind } from "../pool/protocol.js";

export interface TaskExecutor {
  run<T = unknown>(kind: TaskKind, target: number | string, payload: unknown, options?: RunOptions): Promise<TaskOutcome<T>>;
}
