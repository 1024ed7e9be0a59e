// Each route's runner, composed once when the request handler is made: its lane (the loop right
// here, a worker thread or a worker process through src/lanes), then the time limit, then the
// bulkhead, each only when the route has one. The request path just calls the runner, so a route
// with nothing to guard pays for nothing. Every answer becomes a HandledRequest in one place,
// `handled`, and every lane's failure goes through `failure` to the one error table.
import type { RunOnPool } from "../deps/resolve.js";
import type { HttpRequest } from "../http/request.js";
import { statusResult, type RouteResult } from "../http/response.js";
import type { TaskExecutor } from "../lanes/executor.js";
import { invokeRoute, type WithBackground } from "../lanes/invoke.js";
import { DeadlineError } from "../lanes/queue-errors.js";
import { timeLeft } from "../lanes/task.js";
import { sendRoute, sendStreamingRoute } from "../lanes/worker-lane.js";
import { TaskCloneError, TaskError, TaskTimeoutError, WorkerCrashedError } from "../pool/pool-errors.js";
import { type Bulkhead, BulkheadTimeoutError } from "../threads/bulkhead.js";
import { errorResult, RouteTimeoutError } from "./error-table.js";
import type { Route } from "./router.js";
import { withHandlerSpan } from "./lane-span.js";

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

/**
 * Runs a route for a request; `readAt` (performance.now()) is when the request was read. The one
 * composeRunner makes takes validated input: the pipeline puts the validation in front of it.
 */
export type RouteRunner = (data: HttpRequest, readAt: number, done: Done) => void;

/** Makes the runner of a queue-lane route (the queue floor's): `timeoutMs` is the route's limit, if any. */
export type QueueRunnerFactory = (route: Route, timeoutMs: number | undefined) => RouteRunner;

export interface RunnerContext {
  executor: TaskExecutor;
  /** Runs plain dependencies of loop-lane routes on the pool. */
  runOnPool: RunOnPool;
  /** Time limit for routes that set none, ms. */
  defaultTimeout: number | undefined;
  /** Runs queue-lane routes on worker processes; without it (no Redis) they are answered 503. */
  queue?: QueueRunnerFactory;
}

export function composeRunner(route: Route, context: RunnerContext): RouteRunner {
  const timeout = route.timeout ?? context.defaultTimeout;
  let runner: RouteRunner;
  if (route.lane === "queue") runner = context.queue ? context.queue(route, timeout) : notHere(route);
  else if (route.lane === "loop") runner = onLoop(route, route.plan.length > 0 ? context.runOnPool : undefined);
  else runner = onWorker(route, context.executor, timeout);
  if (route.lane === "loop" && timeout !== undefined) runner = withLoopTimeout(runner, route, timeout);
  if (route.bulkhead) runner = withBulkhead(runner, route, route.bulkhead, timeout);
  return withHandlerSpan(runner, route);
}

/** Async handlers right here; the response comes from the handler's own continuation, no promise of ours. */
function onLoop(route: Route, runOnPool: RunOnPool | undefined): RouteRunner {
  return (data, _readAt, done) => {
    invokeRoute(route, data, runOnPool, (result) => done(handled(result, route, "loop", undefined)));
  };
}

/** Plain handlers cross to a worker as plain data (src/lanes); a time limit stops the worker itself. */
function onWorker(route: Route, executor: TaskExecutor, timeout: number | undefined): RouteRunner {
  const send = route.streamsFromWorker ? sendStreamingRoute : sendRoute;
  return (data, readAt, done) =>
    send(
      executor,
      route.id,
      data,
      timeout === undefined ? undefined : timeLeft(timeout, readAt),
      (result, lane, queuedMs) => done(handled(result, route, lane, queuedMs)),
      (error) => done(failure(error, route, timeout)),
    );
}

/** A queue-lane route in a process with no queue: never run here (the server refuses to start so; a TestClient may). */
function notHere(route: Route): RouteRunner {
  const detail = `${route.method} ${route.path} runs on the queue lane, and this process has no queue (start it with --redis URL)`;
  return (_data, _readAt, done) => done(handled(statusResult(503, detail), route, "queue", undefined));
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
    const timer = setTimeout(() => once(failure(new RouteTimeoutError(timeout), route, timeout)), timeLeft(timeout, readAt));
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
    bulkhead.run(held, timeout === undefined ? undefined : timeLeft(timeout, readAt)).catch((error) => done(failure(error, route, timeout)));
  };
}

/** The one way a response becomes a HandledRequest: decorated in place (it is ours alone, and copying costs on every request). */
export function handled(result: RouteResult, route: Route | undefined, lane: string, queuedMs: number | undefined): HandledRequest {
  const out = result as HandledRequest;
  out.route = route;
  out.lane = lane;
  out.queuedMs = queuedMs;
  return out;
}

/** The lane could not produce the handler's response: overload, timeout, a dead worker, shutdown. */
export function failure(error: unknown, route: Route, timeoutMs?: number): HandledRequest {
  let lane: string = route.lane;
  let queuedMs: number | undefined;
  if (error instanceof TaskError || error instanceof WorkerCrashedError || (error instanceof TaskTimeoutError && error.slot !== undefined)) {
    lane = `worker#${error.slot}`;
  }
  if (error instanceof TaskError || error instanceof WorkerCrashedError || error instanceof TaskTimeoutError) queuedMs = error.queuedMs;
  if (error instanceof BulkheadTimeoutError) queuedMs = error.waitedMs;
  // The route's own limit, not what was left of it when the pool (or the queue) was asked.
  if ((error instanceof TaskTimeoutError || error instanceof BulkheadTimeoutError || error instanceof DeadlineError) && timeoutMs !== undefined)
    error = new RouteTimeoutError(timeoutMs);
  if (error instanceof TaskCloneError) error.message = `${route.method} ${route.path}: the request ${error.message}`;
  if (error instanceof WorkerCrashedError) error.message = `${route.method} ${route.path}: ${error.message}`;
  return handled(errorResult(error), route, lane, queuedMs);
}
