// Running a request's background tasks once its response is out, by the lane rule: an async
// function on the event loop, a plain one on the worker pool. The same for the server and the
// TestClient; what is logged, counted and waited for at shutdown is the server's business.
import { performance } from "node:perf_hooks";
import { PoolClosedError, PoolFullError, PoolUnavailableError, TaskError, WorkerCrashedError } from "../pool/pool-errors.js";
import { TaskKind } from "../pool/protocol.js";
import type { BackgroundEntry } from "../threads/background-tasks.js";
import { registeredFunction } from "../threads/offload.js";
import { encodeError, type CrossedError } from "./errors.js";
import type { TaskExecutor } from "./executor.js";
import { captureContext } from "./task.js";

/** How one background task went. */
export interface BackgroundOutcome {
  /** The function's name. */
  task: string;
  /** "loop", or "worker#N" for the worker that ran it ("worker" if it never reached one). */
  lane: string;
  durationMs: number;
  /** What it threw (or why it could not run), when it failed. */
  error?: CrossedError;
  /** It never ran: the pool refused it (busy past its limits, or shutting down), as it would refuse a request. */
  refused?: true;
}

/**
 * Runs the tasks one after another, in the order they were added; a failure does not stop the
 * ones after it. `onOutcome` hears each as it ends. Never rejects, whatever a task throws.
 */
export async function runBackgroundTasks(
  entries: readonly BackgroundEntry[],
  executor: TaskExecutor,
  onOutcome?: (outcome: BackgroundOutcome) => void,
): Promise<BackgroundOutcome[]> {
  const outcomes: BackgroundOutcome[] = [];
  for (const entry of entries) {
    const outcome = await runOne(entry, executor);
    outcomes.push(outcome);
    try {
      onOutcome?.(outcome);
    } catch {
      // The listener (a log line, a metric) must not stop the tasks after this one.
    }
  }
  return outcomes;
}

async function runOne(entry: BackgroundEntry, executor: TaskExecutor): Promise<BackgroundOutcome> {
  const start = performance.now();
  const done = (lane: string, error?: CrossedError): BackgroundOutcome => {
    const outcome: BackgroundOutcome = { task: entry.name, lane, durationMs: performance.now() - start };
    if (error) outcome.error = error;
    return outcome;
  };
  if (entry.lane === "loop") {
    const fn = entry.fn ?? (entry.key === undefined ? undefined : registeredFunction(entry.key));
    if (!fn) return done("loop", { name: "Error", message: `background task ${entry.name} is not registered in the main thread` });
    try {
      await fn(...entry.args);
      return done("loop");
    } catch (error) {
      return done("loop", encodeError(error));
    }
  }
  try {
    const outcome = await executor.run(TaskKind.Blocking, entry.key!, entry.args, { context: captureContext() });
    return done(`worker#${outcome.slot}`);
  } catch (error) {
    // The worker's own error, not the pool's wrapper around it.
    if (error instanceof TaskError) return done(`worker#${error.slot}`, error.serialized);
    if (error instanceof WorkerCrashedError) return done(`worker#${error.slot}`, encodeError(error));
    const outcome = done("worker", encodeError(error));
    if (error instanceof PoolFullError || error instanceof PoolUnavailableError || error instanceof PoolClosedError) outcome.refused = true;
    return outcome;
  }
}
