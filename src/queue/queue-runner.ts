// The runner of a queue-lane route on the server: the validated request goes on the queue as a
// job, and the answer a worker process sends back is the response. The route's timeout counts from
// when the request was read, as on the other lanes; after it, 504, and the job never runs late.
import { performance } from "node:perf_hooks";
import { RouteTimeoutError } from "../app/error-table.js";
import { cancelSignalOf } from "../app/request-data.js";
import { failure, type HandledRequest, type QueueRunnerFactory } from "../app/route-runner.js";
import type { Route } from "../app/router.js";
import { statusResult } from "../http/response.js";
import { captureContext } from "../threads/context-var.js";
import { encodeRequest, RequestCloneError } from "./job-codec.js";
import {
  DeadlineError,
  JobCancelledError,
  QueueClosedError,
  QueueFullError,
  QueueUnavailableError,
  RemoteJobError,
  expiredReason,
} from "./queue-errors.js";
import type { QueueLane, RemoteOutcome } from "./queue-lane.js";
import { defaultQueueTimeoutMs } from "./queue-settings.js";

export function queueRunner(lane: QueueLane): QueueRunnerFactory {
  return (route, timeoutMs) => {
    const limit = timeoutMs ?? defaultQueueTimeoutMs;
    const key = `${route.method} ${route.path}`;
    return (data, readAt, done) => {
      const sentAt = performance.now();
      let request: string;
      try {
        request = encodeRequest(data, captureContext());
      } catch (error) {
        done(queueFailure(error, route, limit));
        return;
      }
      const deadline = Date.now() + Math.max(1, limit - (sentAt - readAt));
      lane.submit({ route: key, request, deadline, timeoutMs: limit, signal: cancelSignalOf(data) }).then(
        (outcome) => done(remoteAnswer(outcome, route)),
        (error) => done(queueFailure(error, route, limit)),
      );
    };
  };
}

/** The worker's response, with where it ran for the access log: `queue@host:pid/worker#2`. */
function remoteAnswer(outcome: RemoteOutcome, route: Route): HandledRequest {
  const { status, headers, body, error, lane, worker, totalMs, runMs } = outcome;
  return {
    status,
    headers,
    body,
    error,
    route,
    lane: `queue@${worker}/${lane}`,
    // Everything that was not running there: Redis, the wait for a worker, the trips both ways.
    queuedMs: Math.max(0, totalMs - runMs) + (outcome.poolWaitMs ?? 0),
  };
}

/** Why no worker's answer came, as the client is told it. */
function queueFailure(error: unknown, route: Route, limit: number): HandledRequest {
  const where = `${route.method} ${route.path}`;
  if (error instanceof DeadlineError || (error instanceof RemoteJobError && error.message === expiredReason)) {
    return failure(new RouteTimeoutError(limit), route, limit);
  }
  if (error instanceof QueueUnavailableError) {
    // The log says it once per outage (the lane reports the lost connection), not once per request.
    return answered(statusResult(503, "Service unavailable: the job queue cannot be reached", { "retry-after": "1" }), route);
  }
  if (error instanceof QueueFullError) {
    return answered(statusResult(503, "Server is busy: too many requests are waiting for a worker; retry later", { "retry-after": "1" }), route);
  }
  if (error instanceof QueueClosedError) return answered(statusResult(503, "Server is shutting down", { "retry-after": "1" }), route);
  if (error instanceof JobCancelledError) return answered(statusResult(499, "Client Closed Request"), route);
  if (error instanceof RequestCloneError) error.message = `${where}: the request ${error.message}`;
  if (error instanceof RemoteJobError) error.message = `${where}: the job failed on the queue: ${error.message}`;
  return failure(error, route, limit);
}

function answered(result: ReturnType<typeof statusResult>, route: Route): HandledRequest {
  return { ...result, route, lane: "queue", queuedMs: undefined };
}
