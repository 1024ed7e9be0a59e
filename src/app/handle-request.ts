import type { IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import { BulkheadFullError, BulkheadTimeoutError } from "../threads/bulkhead.js";
import { TaskKind } from "../pool/protocol.js";
import type { TaskOutcome, WorkerPool } from "../pool/pool.js";
import { PoolClosedError, PoolFullError, PoolUnavailableError, TaskCloneError, TaskError, TaskTimeoutError, WorkerCrashedError } from "../pool/pool-errors.js";
import type { Dependency } from "../deps/dependency.js";
import { hasBody, parseBody, readBody } from "../params/body.js";
import { parseCookies } from "../params/cookies.js";
import type { LoopMonitor } from "../monitor/loop-monitor.js";
import { parseQuery } from "../params/query.js";
import { originForm } from "../params/request-target.js";
import type { App } from "./app.js";
import { invokeRoute, type PooledDependencyOutcome } from "./invoke.js";
import type { HttpRequest } from "./request.js";
import { HTTPError } from "./http-error.js";
import { AnsweredError, errorResult, statusResult, type RouteResult } from "./response.js";
import type { Route } from "./router.js";

/** A response plus where it was made, for the access log. */
export interface HandledRequest extends RouteResult {
  route: Route | undefined;
  /** "loop", or "worker#N" for the worker that ran it. */
  lane: string;
  /** Time spent waiting for a free worker (and at the route's bulkhead), ms. */
  queuedMs: number | undefined;
}

export interface RequestHandlerOptions {
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /** Deepest nesting a JSON body may have (default: defaultJsonDepthLimit). */
  jsonDepthLimit?: number;
  /** Time limit for routes that set none, ms (undefined: no limit). */
  timeout: number | undefined;
  /** Told which route each request is, so a block of the loop can be pinned on it. */
  monitor?: LoopMonitor;
}

/**
 * The request pipeline: route → read and parse input → run on the route's lane → response.
 * Async handlers run right here on the event loop; plain ones cross to a worker as plain data
 * and come back as a serialised response.
 */
/** A response, one on its way, or undefined when the pipeline calls `done` itself. */
type Outcome = HandledRequest | Promise<HandledRequest | undefined> | undefined;

export function createRequestHandler(app: App, pool: WorkerPool, options: RequestHandlerOptions) {
  /** Loop-lane routes with a synchronous answer are answered without a single promise. */
  const monitor = options.monitor;
  /**
   * Handles one request and calls `done` with its response (`fail` only for a bug in this
   * pipeline). The common case, a loop-lane route with no body and no guard, calls `done` from
   * the handler's own continuation: no promise of ours in between.
   */
  return function handle(req: IncomingMessage, client: string, done: (result: HandledRequest) => void, fail: (error: unknown) => void): void {
    let outcome: Outcome;
    try {
      outcome = pipeline(req, client, done, fail, performance.now());
    } catch (error) {
      return fail(error);
    }
    if (outcome instanceof Promise) outcome.then((result) => result && done(result), fail);
    else if (outcome !== undefined) done(outcome);
  };

  /** Route, read, validate, run: the response, or undefined when it has arranged for `done` itself. */
  function pipeline(
    req: IncomingMessage,
    client: string,
    done: (result: HandledRequest) => void,
    fail: (error: unknown) => void,
    readAt: number,
  ): Outcome {
    const url = originForm(req.url ?? "/");
    const queryStart = url.indexOf("?");
    const path = queryStart < 0 ? url : url.slice(0, queryStart);
    const method = req.method ?? "GET";
    const match = app.match(method, path);
    switch (match.kind) {
      case "not-found":
        return answered(statusResult(404, "Not Found"));
      case "method-not-allowed":
        return answered(statusResult(405, "Method Not Allowed", { allow: match.allow.join(", ") }));
      case "bad-path":
        return answered(statusResult(400, "Malformed request path"));
    }
    const route = match.route;
    monitor?.routed(route.id);
    const data: HttpRequest = {
      method,
      url,
      path,
      params: match.params,
      query: {},
      headers: req.headers,
      cookies: req.headers.cookie === undefined ? {} : parseCookies(req.headers.cookie),
      body: undefined,
      client,
    };
    try {
      if (queryStart >= 0) data.query = parseQuery(url.slice(queryStart + 1));
      if (hasBody(req)) {
        return readBody(req, options.bodyLimit).then(
          (raw) => {
            try {
              data.body = parseBody(raw, req.headers["content-type"], route.accepts, options.jsonDepthLimit);
            } catch (error) {
              return rejected(error, route);
            }
            return validateThen(route, data, () => run(route, data, readAt));
          },
          (error) => rejected(error, route),
        );
      }
    } catch (error) {
      return rejected(error, route);
    }
    if (route.lane === "loop" && !route.bulkhead && (route.timeout ?? options.timeout) === undefined) {
      return validateThen(route, data, () => {
        invokeOnLoop(route, data, (result) => {
          // Never throws, so the handler's promise never rejects unhandled.
          try {
            done(onLoop(result, route, undefined));
          } catch (error) {
            fail(error);
          }
        });
        return undefined;
      });
    }
    return validateThen(route, data, () => run(route, data, readAt));
  }

  /** Declared inputs are checked here, on the main thread: a worker only ever sees valid data. */
  function validateThen(route: Route, data: HttpRequest, next: () => Outcome): Outcome {
    if (route.inputs === undefined) return next();
    let validated: void | Promise<void>;
    try {
      validated = route.inputs.apply(data);
    } catch (error) {
      return invalidInput(route, data, error);
    }
    return validated instanceof Promise ? validated.then(next, (error) => invalidInput(route, data, error)) : next();
  }

  /** The answer for input the route's schemas refuse: a 422, or what its exception handler says. */
  function invalidInput(route: Route, data: HttpRequest, error: unknown): HandledRequest | Promise<HandledRequest> {
    const result = route.errors.respond(error, data);
    return result instanceof Promise ? result.then((r) => onLoop(r, route, undefined)) : onLoop(result, route, undefined);
  }

  /** A plain dependency of a loop-lane route runs on the pool; its value must survive the trip back. */
  function runOnPool(dep: Dependency, req: HttpRequest, deps: Record<string, unknown>): Promise<unknown> {
    return pool.run<PooledDependencyOutcome>(TaskKind.Dependency, app.dependencyIds.get(dep)!, { req, deps }).then(
      ({ value: outcome }) => {
        if (outcome.httpError) throw new HTTPError(outcome.httpError.status, outcome.httpError.detail, outcome.httpError.headers);
        if (outcome.answered) throw new AnsweredError(outcome.answered);
        return outcome.value;
      },
      (error) => {
        throw poolDependencyError(error, dep);
      },
    );
  }

  function invokeOnLoop(route: Route, data: HttpRequest): RouteResult | Promise<RouteResult>;
  function invokeOnLoop<T>(route: Route, data: HttpRequest, finish: (result: RouteResult) => T): T | Promise<T>;
  function invokeOnLoop(route: Route, data: HttpRequest, finish?: (result: RouteResult) => unknown): unknown {
    return invokeRoute(route, data, route.plan.length > 0 ? runOnPool : undefined, finish as (result: RouteResult) => unknown);
  }

  function run(route: Route, data: HttpRequest, readAt: number): HandledRequest | Promise<HandledRequest> {
    const timeout = route.timeout ?? options.timeout;
    if (route.bulkhead || timeout !== undefined) return runGuarded(route, data, timeout, readAt);
    if (route.lane === "loop") return invokeOnLoop(route, data, (result) => onLoop(result, route, undefined));
    return pool.run<RouteResult>(TaskKind.Route, route.id, data).then(
      (outcome) => onWorker(outcome, route, 0),
      (error) => failure(error, route),
    );
  }

  /**
   * The slower path: a bulkhead or a time limit is involved. The time limit counts from when the
   * request was read, so time spent waiting at the bulkhead is part of it.
   */
  async function runGuarded(route: Route, data: HttpRequest, timeout: number | undefined, readAt: number): Promise<HandledRequest> {
    const left = () => (timeout === undefined ? undefined : Math.max(1, timeout - (performance.now() - readAt)));
    const bulkhead = route.bulkhead;
    try {
      if (route.lane === "loop") {
        const call = () => withLoopTimeout(invokeOnLoop(route, data), timeout, left());
        let waitedMs: number | undefined;
        const result = bulkhead ? await bulkhead.run((waited) => ((waitedMs = waited), call()), left()) : await call();
        return onLoop(result, route, waitedMs);
      }
      let waitedMs = 0;
      const call = (waited = 0) => {
        waitedMs = waited;
        return pool.run<RouteResult>(TaskKind.Route, route.id, data, { timeoutMs: left() });
      };
      const outcome = bulkhead ? await bulkhead.run(call, left()) : await call();
      return onWorker(outcome, route, waitedMs);
    } catch (error) {
      if (error instanceof BulkheadTimeoutError) return { ...statusResult(504, `The handler did not finish within ${timeout} ms`), route, lane: route.lane, queuedMs: error.waitedMs };
      return failure(error, route, timeout);
    }
  }
}

/** A plain dependency of a loop-lane route returned what cannot cross threads (a function, a connection, ...). */
export class DependencyCloneError extends Error {
  override readonly name = "DependencyCloneError";
}

/** Why a pooled dependency produced no value, in terms of the app rather than the pool. */
function poolDependencyError(error: unknown, dep: Dependency): unknown {
  if (error instanceof TaskError && error.serialized.name === "DataCloneError") {
    return new DependencyCloneError(
      `dependency ${dep.name} is a plain function, so it ran on the worker pool for a loop-lane route, ` +
        `and its value cannot be copied back to the main thread (${error.message}). ` +
        "Return plain data, make the dependency async to run it on the loop, or make the route plain so all of it runs in one worker.",
    );
  }
  if (error instanceof TaskCloneError) {
    return new DependencyCloneError(
      `dependency ${dep.name} is a plain function, so it runs on the worker pool for a loop-lane route, ` +
        `and the request or the values of the dependencies it needs could not be copied to the worker (${error.message}). ` +
        "Make the dependency async to run it on the loop, or make the route plain so all of it runs in one worker.",
    );
  }
  if (error instanceof PoolFullError || error instanceof BulkheadFullError) {
    return new HTTPError(503, "Server is busy: too many requests are waiting; retry later", { "retry-after": "1" });
  }
  if (error instanceof PoolUnavailableError) {
    return new HTTPError(503, `Service unavailable: ${error.message}`, { "retry-after": String(error.retryAfterSeconds) });
  }
  if (error instanceof PoolClosedError) return new HTTPError(503, "Server is shutting down", { "retry-after": "1" });
  return error;
}

/** Decorates the handler's result in place: it is ours alone, and copying costs on every request. */
function onLoop(result: RouteResult, route: Route, queuedMs: number | undefined): HandledRequest {
  const handled = result as HandledRequest;
  handled.route = route;
  handled.lane = "loop";
  handled.queuedMs = queuedMs;
  return handled;
}

/** The same for a worker's result; its queue wait adds the time spent at the route's bulkhead. */
function onWorker(outcome: TaskOutcome<RouteResult>, route: Route, bulkheadMs: number): HandledRequest {
  const handled = outcome.value as HandledRequest;
  handled.route = route;
  handled.lane = `worker#${outcome.slot}`;
  handled.queuedMs = bulkheadMs + outcome.queuedMs;
  return handled;
}

/** Input that could not be read or parsed: answered before the route's lane is involved. */
function rejected(error: unknown, route: Route): HandledRequest {
  return onLoop(errorResult(error), route, undefined);
}

function answered(result: RouteResult): HandledRequest {
  return { ...result, route: undefined, lane: "loop", queuedMs: undefined };
}

class LoopTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`handler did not finish within ${timeoutMs} ms`);
  }
}

/** A loop-lane handler cannot be stopped, only answered for: the 504 goes out, the work goes on. */
function withLoopTimeout(
  result: RouteResult | Promise<RouteResult>,
  timeoutMs: number | undefined,
  leftMs: number | undefined,
): RouteResult | Promise<RouteResult> {
  if (timeoutMs === undefined || leftMs === undefined || !(result instanceof Promise)) return result;
  let timer: NodeJS.Timeout;
  return Promise.race([
    result,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new LoopTimeoutError(timeoutMs)), leftMs))),
  ]).finally(() => clearTimeout(timer));
}

/** The lane could not produce the handler's response: overload, timeout, a dead worker, shutdown. */
function failure(error: unknown, route: Route, timeoutMs?: number): HandledRequest {
  const busy = { "retry-after": "1" };
  let lane = route.lane === "loop" ? "loop" : "worker";
  let queuedMs: number | undefined;
  let result: RouteResult;
  if (error instanceof PoolFullError || error instanceof BulkheadFullError) {
    result = statusResult(503, "Server is busy: too many requests are waiting; retry later", busy);
  } else if (error instanceof PoolUnavailableError) {
    result = statusResult(503, `Service unavailable: ${error.message}`, { "retry-after": String(error.retryAfterSeconds) });
  } else if (error instanceof PoolClosedError) {
    result = statusResult(503, "Server is shutting down", busy);
  } else if (error instanceof TaskTimeoutError || error instanceof LoopTimeoutError) {
    result = statusResult(504, `The handler did not finish within ${timeoutMs ?? error.timeoutMs} ms`);
    if (error instanceof TaskTimeoutError) {
      if (error.slot !== undefined) lane = `worker#${error.slot}`;
      queuedMs = error.queuedMs;
    }
  } else if (error instanceof WorkerCrashedError) {
    lane = `worker#${error.slot}`;
    queuedMs = error.queuedMs;
    // The body says what happened to the request; the log line says why (see the worker-exit line).
    const detail = error.fault === "lost" ? "The worker that ran this request died before sending its response" : "The worker running this request died";
    result = { ...statusResult(500, detail), error: { name: error.name, message: `${route.method} ${route.path}: ${error.message}` } };
  } else {
    if (error instanceof TaskError) {
      lane = `worker#${error.slot}`;
      queuedMs = error.queuedMs;
    }
    if (error instanceof TaskCloneError) error.message = `${route.method} ${route.path}: the request ${error.message}`;
    result = errorResult(error);
  }
  return { ...result, route, lane, queuedMs };
}
