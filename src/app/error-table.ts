// Every error the framework answers for, with its status and what the client is told, in one
// table for every lane (the loop, the worker pool, the queue, a WebSocket handshake). The message
// for the log is the error itself (kept on the result, never sent).
import { BulkheadFullError, BulkheadTimeoutError } from "../threads/bulkhead.js";
import { HttpError } from "../http/http-error.js";
import { internalErrorResult, statusResult, type RouteResult } from "../http/response.js";
import { RequestValidationError } from "../params/validation-error.js";
import { UploadStorageError } from "../params/multipart.js";
import {
  PoolClosedError,
  PoolFullError,
  PoolUnavailableError,
  TaskCancelledError,
  TaskError,
  TaskTimeoutError,
  WorkerCrashedError,
} from "../pool/pool-errors.js";
import { serializeError, type SerializedError } from "../pool/protocol.js";
import { AnsweredError, type CrossedError } from "../lanes/errors.js";
import {
  IdempotencyConflictError,
  IdempotencyKeyError,
  IdempotencyMismatchError,
  JobCancelledError,
  QueueClosedError,
  QueueFullError,
  QueueUnavailableError,
} from "../lanes/queue-errors.js";

/** The handler did not finish within the route's time limit (counted from when the request was read). */
export class RouteTimeoutError extends Error {
  override readonly name = "RouteTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`the handler did not finish within ${timeoutMs} ms`);
  }
}

/** The server is shutting down and takes no new work: a request, a WebSocket handshake (503). */
export class ShuttingDownError extends Error {
  override readonly name = "ShuttingDownError";
  constructor() {
    super("the server is shutting down");
  }
}

const busy = { "retry-after": "1" };
const shuttingDown = () => statusResult(503, "Server is shutting down", busy);
const clientClosed = () => statusResult(499, "Client Closed Request");
const timedOut = (ms: number) => statusResult(504, `The handler did not finish within ${ms} ms`);

type Answer<E> = (error: E) => RouteResult;
const table: [abstract new (...args: any[]) => unknown, Answer<any>][] = [
  [HttpError, (e: HttpError) => statusResult(e.status, e.detail, e.headers)],
  // The server's fault, not the body's: logged with its cause (a full disk is the operator's to fix).
  [UploadStorageError, (e: UploadStorageError) => ({ ...statusResult(e.status, e.detail, e.headers), error: serializeError(e) })],
  [RequestValidationError, (e: RequestValidationError) => statusResult(422, e.issues)],
  [AnsweredError, (e: AnsweredError) => e.result],
  // What a task on a worker threw (an offloaded function): an HttpError there answers with its status here too.
  [TaskError, (e: TaskError) => httpAnswer((e.serialized as CrossedError).http) ?? internalErrorResult(serializeError(e))],
  [
    PoolFullError,
    (e: PoolFullError) =>
      statusResult(503, "Server is busy: too many requests are waiting; retry later", { "retry-after": String(e.retryAfterSeconds) }),
  ],
  [BulkheadFullError, () => statusResult(503, "Server is busy: too many requests are waiting; retry later", busy)],
  [
    PoolUnavailableError,
    (e: PoolUnavailableError) => statusResult(503, `Service unavailable: ${e.message}`, { "retry-after": String(e.retryAfterSeconds) }),
  ],
  // Its client left: nobody reads this answer; the access log shows it as nginx does.
  [TaskCancelledError, clientClosed],
  [JobCancelledError, clientClosed],
  [PoolClosedError, shuttingDown],
  [QueueClosedError, shuttingDown],
  [ShuttingDownError, shuttingDown],
  [QueueFullError, () => statusResult(503, "Server is busy: too many requests are waiting for a worker; retry later", busy)],
  // The log says it once per outage (the lane reports the lost connection), not once per request.
  [QueueUnavailableError, () => statusResult(503, "Service unavailable: the job queue cannot be reached", busy)],
  [IdempotencyKeyError, (e: IdempotencyKeyError) => statusResult(400, e.message)],
  [IdempotencyMismatchError, () => statusResult(422, "This Idempotency-Key was sent before with another request; use a new key for a new request")],
  [
    IdempotencyConflictError,
    () => statusResult(409, "A request with this Idempotency-Key is still being processed; retry later for its answer", busy),
  ],
  [RouteTimeoutError, (e: RouteTimeoutError) => timedOut(e.timeoutMs)],
  [TaskTimeoutError, (e: TaskTimeoutError) => timedOut(e.timeoutMs)],
  [BulkheadTimeoutError, (e: BulkheadTimeoutError) => timedOut(Math.round(e.waitedMs))],
  // The body says what happened to the request; the log line (and the worker-exit line) says why.
  [
    WorkerCrashedError,
    (e: WorkerCrashedError) => ({
      ...statusResult(
        500,
        e.fault === "lost" ? "The worker that ran this request died before sending its response" : "The worker running this request died",
      ),
      error: serializeError(e),
    }),
  ],
];

function httpAnswer(http: CrossedError["http"]): RouteResult | undefined {
  return http && statusResult(http.status, http.detail, http.headers);
}

/**
 * The response for an error no exception handler of the app answered: its row of the table, or
 * a bare 500 whose details go to the log only. It never throws, whatever was thrown: an
 * HttpError whose detail JSON cannot carry (a cycle, a BigInt) is a 500 too.
 */
export function errorResult(error: unknown): RouteResult {
  try {
    for (const [errorClass, answer] of table) if (error instanceof errorClass) return answer(error);
  } catch (failure) {
    return internalErrorResult(unsendable(error, failure));
  }
  return internalErrorResult(withHint(error, serializeError(error)));
}

/**
 * A thrown object shaped like an HTTP answer (`{ status: 404, detail }`, Express's `statusCode`)
 * is a bare 500 like any value that is not an Error: the log says how to get the status it meant.
 */
function withHint(error: unknown, serialized: SerializedError): SerializedError {
  if (error instanceof Error || error === null || typeof error !== "object") return serialized;
  let status: unknown;
  try {
    status = (error as { status?: unknown }).status ?? (error as { statusCode?: unknown }).statusCode;
  } catch {
    return serialized;
  }
  if (!Number.isInteger(status) || (status as number) < 400 || (status as number) > 599) return serialized;
  const message = `${serialized.message}. It was answered 500: to answer ${status}, throw new HttpError(${status}, detail) instead (import { HttpError } from "loopwise")`;
  return { ...serialized, message };
}

/** For the log: the error the handler raised, and why it could not be sent as it asked. */
function unsendable(error: unknown, failure: unknown): SerializedError {
  const raised = serializeError(error);
  const why = serializeError(failure);
  const message = `${raised.message} (answered 500 instead: its detail cannot be sent as JSON: ${why.name}: ${why.message})`;
  return { name: raised.name, message, stack: raised.stack === undefined ? undefined : `${raised.name}: ${message}\nRaised ${raised.stack}` };
}
