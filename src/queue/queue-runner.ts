// The runner of a queue-lane route on the server: the validated request goes on the queue as a
// job, and the answer a worker process sends back is the response. The route's timeout counts from
// when the request was read, as on the other lanes; after it, 504, and the job never runs late.
import { failure, handled, type HandledRequest, type QueueRunnerFactory } from "../app/route-runner.js";
import type { Route } from "../app/router.js";
import { DeadlineError, RemoteJobError, RequestCloneError, expiredReason } from "../lanes/queue-errors.js";
import { cancelSignalOf, captureContext, timeLeft } from "../lanes/task.js";
import { idempotencyKeyOf, requestFingerprint } from "./idempotency.js";
import { encodeJobRequest } from "./job-codec.js";
import type { QueueLane, RemoteOutcome } from "./queue-lane.js";
import { defaultQueueTimeoutMs } from "./queue-settings.js";

export function queueRunner(lane: QueueLane): QueueRunnerFactory {
  return (route, timeoutMs) => {
    const limit = timeoutMs ?? defaultQueueTimeoutMs;
    const key = `${route.method} ${route.path}`;
    return (data, readAt, done) => {
      let request: string;
      let idempotencyKey: string | undefined;
      let fingerprint: string | undefined;
      try {
        idempotencyKey = idempotencyKeyOf(data.headers["idempotency-key"]);
        request = encodeJobRequest(data, captureContext());
        if (idempotencyKey !== undefined) fingerprint = requestFingerprint(data);
      } catch (error) {
        done(queueFailure(error, route, limit));
        return;
      }
      const deadline = Date.now() + timeLeft(limit, readAt);
      lane.submit({ route: key, request, deadline, timeoutMs: limit, signal: cancelSignalOf(data), idempotencyKey, fingerprint }).then(
        (outcome) => done(remoteAnswer(outcome, route)),
        (error) => done(queueFailure(error, route, limit)),
      );
    };
  };
}

/** The worker's response, with where it ran for the access log: `queue@host:pid/worker#2`. */
function remoteAnswer(outcome: RemoteOutcome, route: Route): HandledRequest {
  const { status, headers, body, error, lane, worker, totalMs, runMs } = outcome;
  // Queued: everything that was not running there: Redis, the wait for a worker, the trips both ways.
  return handled({ status, headers, body, error }, route, `queue@${worker}/${lane}`, Math.max(0, totalMs - runMs) + (outcome.poolWaitMs ?? 0));
}

/** Why no worker's answer came: the error table gives the status; these need the route's name or limit. */
function queueFailure(error: unknown, route: Route, limit: number): HandledRequest {
  const where = `${route.method} ${route.path}`;
  if (error instanceof RemoteJobError && error.message === expiredReason) error = new DeadlineError();
  else if (error instanceof RequestCloneError) error.message = `${where}: the request ${error.message}`;
  else if (error instanceof RemoteJobError) error.message = `${where}: the job failed on the queue: ${error.message}`;
  return failure(error, route, limit);
}
