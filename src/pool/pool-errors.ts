// The ways a pool task can fail, as error classes the caller (the request pipeline, offload)
// tells apart. None of them knows about HTTP: the pipeline gives each its status.
import type { SerializedError } from "./protocol.js";

/** A task whose function threw inside the worker. */
export class TaskError extends Error {
  override readonly name = "TaskError";
  constructor(
    readonly serialized: SerializedError,
    readonly slot: number,
    readonly queuedMs: number,
    readonly runMs: number,
  ) {
    super(serialized.message);
    this.stack = serialized.stack ?? this.stack;
  }
}

/**
 * The worker holding a task died (exit, uncaught error, out of memory). `fault` says whose it
 * was: "task" when the task was running and may have caused it, "stray" when an error left
 * behind by earlier work (a timer that threw) killed the worker under it, "lost" when the task
 * had finished but its result died with the worker, "retry" when it never started, twice.
 */
export class WorkerCrashedError extends Error {
  override readonly name = "WorkerCrashedError";
  constructor(
    message: string,
    readonly slot: number,
    readonly queuedMs: number,
    readonly fault: "task" | "stray" | "lost" | "retry" = "task",
  ) {
    super(message);
  }
}

/** The task did not finish within its time limit; if it was running, its worker was terminated. */
export class TaskTimeoutError extends Error {
  override readonly name = "TaskTimeoutError";
  constructor(
    readonly timeoutMs: number,
    /** The worker that was running it, or undefined if it never left the queue. */
    readonly slot: number | undefined,
    readonly queuedMs: number,
  ) {
    super(`task did not finish within ${timeoutMs} ms`);
  }
}

/**
 * Shed instead of queued without bound: the queue is full (its count cap), or the task would
 * wait, or has waited, longer than the pool's wait limit.
 */
export class PoolFullError extends Error {
  override readonly name = "PoolFullError";
  constructor(
    message: string,
    /** When trying again makes sense, in whole seconds (an estimate of when the backlog has cleared). */
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
  }
}

/** The task was cancelled through its signal. `started`: it had begun running (and its handler saw the signal fire). */
export class TaskCancelledError extends Error {
  override readonly name = "TaskCancelledError";
  constructor(
    readonly started: boolean,
    readonly queuedMs: number,
  ) {
    super(started ? "the task was cancelled while it ran" : "the task was cancelled before it started");
  }
}

/**
 * No worker can take the task for now: every replacement failed to start (its start hook needs
 * a database that is down, say), or this task's target crashed its worker again and again and
 * is refused for a while. Answered at once rather than queued behind a pool that cannot run it.
 */
export class PoolUnavailableError extends Error {
  override readonly name = "PoolUnavailableError";
  constructor(
    message: string,
    /** When trying again makes sense, in whole seconds. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** The task's input could not be copied to a worker (too deeply nested, or not cloneable). */
export class TaskCloneError extends Error {
  override readonly name = "TaskCloneError";
}

/** The pool is closing and takes no new tasks. */
export class PoolClosedError extends Error {
  override readonly name = "PoolClosedError";
}

/** A worker could not load the app, or loaded a different one. */
export class PoolStartupError extends Error {
  override readonly name = "PoolStartupError";
}

/**
 * Builds a load-shedding error without capturing a stack: under a flood thousands are made in
 * one burst, the stack says nothing, and capturing it was the biggest cost of refusing work.
 */
export function shedError<E extends Error>(make: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
