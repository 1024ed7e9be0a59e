// Each route's runner, composed once when the request handler is made: the lane's executor,
// then the time limit, then the bulkhead, each only when the route has one. The request path
// just calls the runner, so a route with nothing to guard pays for nothing.
import { performance } from "node:perf_hooks";
import type { RunOnPool } from "../deps/resolve.js";
import type { HttpRequest } from "../http/request.js";
import type { RouteResult } from "../http/response.js";
import { TaskCloneError, TaskError, TaskTimeoutError, WorkerCrashedError } from "../pool/pool-errors.js";
import type { RunOptions, TaskOutcome } from "../pool/pool-options.js";
import { captureContext } from "../threads/context-var.js";
import { crossable } from "../params/upload-crossing.js";
import { TaskKind } from "../pool/protocol.js";
import { type Bulkhead, BulkheadTimeoutError } from "../threads/bulkhead.js";
import { errorResult, RouteTimeoutError } from "./error-table.js";
import { invokeRoute, type WithBackground } from "./invoke.js";
import { cancelSignalOf } from "./request-data.js";
import type { Route } from "./router.js";
import type { TaskExecutor } from "./task-executor.js";
import { newChannelName, StreamReceiver, type StreamingPayload } from "./worker-stream.js";

/** A response plus where it was made, for the access log, and the background tasks to run once it is sent. */
export interface HandledRequest extends RouteResult, WithBackground {
  route: Route | undefined;
  /** "loop", or "worker#N" for the worker that ran it. */
  lane: string;
  /** Time spent waiting for a free worker (and at the route's bulkhead), ms. */
  queuedMs: number | undefined;
  /** The request's id, when middleware gave it one (for the access log). */
  requestId?: string;
}

/** Receives the response; never throws (the request handler makes sure). */
export type Done = (result: HandledRequest) => void;

/** Runs a route for validated input; `readAt` (performance.now()) is when the request was read. */
export type RouteRunner = (data: HttpRequest, readAt: number, done: Done) => void;

export interface RunnerContext {
  executor: TaskExecutor;
  /** Runs plain dependencies of loop-lane routes on the pool. */
  runOnPool: RunOnPool;
  /** Time limit for routes that set none, ms. */
  defaultTimeout: number | undefined;
}

export function composeRunner(route: Route, context: RunnerContext): RouteRunner {
  const timeout = route.timeout ?? context.defaultTimeout;
  let runner =
    route.lane === "loop"
      ? onLoop(route, route.plan.length > 0 ? context.runOnPool : undefined)
      : route.streamsFromWorker
        ? onWorkerStreaming(route, context.executor, timeout)
        : onWorker(route, context.executor, timeout);
  if (route.lane === "loop" && timeout !== undefined) runner = withLoopTimeout(runner, route, timeout);
  if (route.bulkhead) runner = withBulkhead(runner, route, route.bulkhead, timeout);
  return runner;
}

/** The time left of the route's limit, counted from when the request was read (at least 1 ms). */
const left = (timeout: number, readAt: number) => Math.max(1, timeout - (performance.now() - readAt));

/** Async handlers right here; the response comes from the handler's own continuation, no promise of ours. */
function onLoop(route: Route, runOnPool: RunOnPool | undefined): RouteRunner {
  return (data, _readAt, done) => {
    invokeRoute(route, data, runOnPool, (result) => done(handled(result, route, "loop", undefined)));
  };
}

/** Plain handlers cross to a worker as plain data; a time limit stops the worker itself. */
function onWorker(route: Route, executor: TaskExecutor, timeout: number | undefined): RouteRunner {
  return (data, readAt, done) => {
    // The client's leaving cancels the task (never run if still queued); its context crosses with it.
    const options: RunOptions = { signal: cancelSignalOf(data), context: captureContext() };
    if (timeout !== undefined) options.timeoutMs = left(timeout, readAt);
    executor.run<RouteResult>(TaskKind.Route, route.id, crossable(data), options).then(
      (outcome: TaskOutcome<RouteResult>) => done(handled(outcome.value, route, `worker#${outcome.slot}`, outcome.queuedMs)),
      (error) => done(failure(error, route, timeout)),
    );
  };
}

/**
 * A plain generator handler: the answer goes out when the worker sends its head, and its body
 * follows chunk by chunk (worker-stream.ts). The task itself ends with the stream.
 */
function onWorkerStreaming(route: Route, executor: TaskExecutor, timeout: number | undefined): RouteRunner {
  return (data, readAt, done) => {
    const channel = newChannelName();
    const sentAt = performance.timeOrigin + performance.now();
    const receiver = new StreamReceiver(channel, (head) => {
      const response: RouteResult = { status: head.status, headers: head.headers, body: head.body };
      done(handled(response, route, `worker#${head.slot}`, Math.max(0, head.startedAt - sentAt)));
    });
    const options: RunOptions = { signal: cancelSignalOf(data), context: captureContext() };
    if (timeout !== undefined) options.timeoutMs = left(timeout, readAt);
    const payload: StreamingPayload<HttpRequest> = { req: crossable(data), channel };
    executor.run<RouteResult | { streamed: true }>(TaskKind.Route, route.id, payload, options).then(
      (outcome) => {
        // Streamed: the head answered already, or is on its way on the other channel.
        if ("streamed" in outcome.value) return;
        receiver.close();
        done(handled(outcome.value, route, `worker#${outcome.slot}`, outcome.queuedMs));
      },
      (error) => {
        if (receiver.headSeen) return receiver.fail(error);
        receiver.close();
        done(failure(error, route, timeout));
      },
    );
  };
}

/** A loop-lane handler cannot be stopped, only answered for: the 504 goes out, the work goes on. */
function withLoopTimeout(inner: RouteRunner, route: Route, timeout: number): RouteRunner {
  return (data, readAt, done) => {
    let answered = false;
    const once: Done = (result) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      done(result);
    };
    const timer = setTimeout(() => once(failure(new RouteTimeoutError(timeout), route, timeout)), left(timeout, readAt));
    inner(data, readAt, once);
  };
}

/** Waits for a place at the bulkhead (within the time limit), holds it until the answer. */
function withBulkhead(inner: RouteRunner, route: Route, bulkhead: Bulkhead, timeout: number | undefined): RouteRunner {
  return (data, readAt, done) => {
    const held = (waitedMs: number) =>
      new Promise<void>((release) =>
        inner(data, readAt, (result) => {
          result.queuedMs = (result.queuedMs ?? 0) + waitedMs;
          release();
          done(result);
        }),
      );
    bulkhead.run(held, timeout === undefined ? undefined : left(timeout, readAt)).catch((error) => done(failure(error, route, timeout)));
  };
}

/** Decorates the result in place: it is ours alone, and copying costs on every request. */
function handled(result: RouteResult, route: Route, lane: string, queuedMs: number | undefined): HandledRequest {
  const out = result as HandledRequest;
  out.route = route;
  out.lane = lane;
  out.queuedMs = queuedMs;
  return out;
}

/** The lane could not produce the handler's response: overload, timeout, a dead worker, shutdown. */
export function failure(error: unknown, route: Route, timeoutMs?: number): HandledRequest {
  let lane = route.lane === "loop" ? "loop" : "worker";
  let queuedMs: number | undefined;
  if (error instanceof TaskError || error instanceof WorkerCrashedError || (error instanceof TaskTimeoutError && error.slot !== undefined)) {
    lane = `worker#${error.slot}`;
  }
  if (error instanceof TaskError || error instanceof WorkerCrashedError || error instanceof TaskTimeoutError) queuedMs = error.queuedMs;
  if (error instanceof BulkheadTimeoutError) queuedMs = error.waitedMs;
  // The route's own limit, not what was left of it when the pool was asked.
  if ((error instanceof TaskTimeoutError || error instanceof BulkheadTimeoutError) && timeoutMs !== undefined)
    error = new RouteTimeoutError(timeoutMs);
  if (error instanceof TaskCloneError) error.message = `${route.method} ${route.path}: the request ${error.message}`;
  if (error instanceof WorkerCrashedError) error.message = `${route.method} ${route.path}: ${error.message}`;
  return handled(errorResult(error), route, lane, queuedMs);
}
