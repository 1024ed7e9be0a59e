// The ways the queue lane (a route's request run by a worker process, through Redis) fails a
// request. The error table (src/app/error-table.ts) gives each its status; the log line says what
// happened.

/** Redis cannot be reached: the job was not queued (503, retry later). */
export class QueueUnavailableError extends Error {
  override readonly name = "QueueUnavailableError";
  readonly retryAfterSeconds = 1;
}

/** Too many of this server's requests already wait for a worker process (503, retry later): a memory cap. */
export class QueueFullError extends Error {
  override readonly name = "QueueFullError";
}

/** The server is shutting down and stops waiting for answers (503). */
export class QueueClosedError extends Error {
  override readonly name = "QueueClosedError";
}

/** BullMQ failed the job: its worker died twice, the route is missing on the worker, ... (500; the reason goes to the log). */
export class RemoteJobError extends Error {
  override readonly name = "RemoteJobError";
}

/** The job was removed from the queue because its client left before a worker took it (499). */
export class JobCancelledError extends Error {
  override readonly name = "JobCancelledError";
}

/** The reason a worker gives when it skips a job whose deadline passed before it was taken. */
export const expiredReason = "expired: its deadline passed before a worker took it";

/** No queue worker answered within the route's limit (answered as the route's 504). */
export class DeadlineError extends Error {
  override readonly name = "DeadlineError";
  constructor() {
    super("no queue worker answered before the route's deadline");
  }
}

/** A request that could not be serialised: the handler's input holds a function, a class with private state, a spooled upload... */
export class RequestCloneError extends Error {
  override readonly name = "RequestCloneError";
}

/** A malformed Idempotency-Key header (400, saying what a key may be). */
export class IdempotencyKeyError extends Error {
  override readonly name = "IdempotencyKeyError";
}

/** An Idempotency-Key sent before with another request: another method, target or body (422). */
export class IdempotencyMismatchError extends Error {
  override readonly name = "IdempotencyMismatchError";
}

/** A request with the same Idempotency-Key is still running (409, retry later for its stored answer). */
export class IdempotencyConflictError extends Error {
  override readonly name = "IdempotencyConflictError";
}
