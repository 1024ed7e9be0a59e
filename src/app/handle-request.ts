import type { IncomingMessage } from "node:http";
import { TaskKind } from "../lanes/messages.js";
import { PoolClosedError, TaskError, WorkerCrashedError, type WorkerPool } from "../lanes/pool.js";
import { hasBody, parseBody, readBody } from "../params/body.js";
import { parseQuery } from "../params/query.js";
import type { App } from "./app.js";
import { invokeRoute } from "./invoke.js";
import type { HttpRequest } from "./request.js";
import { errorResult, statusResult, type RouteResult } from "./response.js";
import type { Route } from "./router.js";

/** A response plus where it was made, for the access log. */
export interface HandledRequest extends RouteResult {
  route: Route | undefined;
  /** "loop", or "worker#N" for the worker that ran it. */
  lane: string;
  /** Time spent waiting for a free worker, ms (worker lane only). */
  queuedMs: number | undefined;
}

export interface RequestHandlerOptions {
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
}

/**
 * The request pipeline: route → read and parse input → run on the route's lane → response.
 * Async handlers run right here on the event loop; plain ones cross to a worker as plain data
 * and come back as a serialised response.
 */
export function createRequestHandler(app: App, pool: WorkerPool, options: RequestHandlerOptions) {
  return async function handle(req: IncomingMessage): Promise<HandledRequest> {
    const url = req.url ?? "/";
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
    let data: HttpRequest;
    try {
      data = {
        method,
        url,
        path,
        params: match.params,
        query: queryStart < 0 ? {} : parseQuery(url.slice(queryStart + 1)),
        headers: req.headers,
        body: hasBody(req) ? parseBody(await readBody(req, options.bodyLimit), req.headers["content-type"]) : undefined,
        client: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
      };
    } catch (error) {
      return { ...errorResult(error), route, lane: "loop", queuedMs: undefined };
    }

    if (route.lane === "loop") {
      return { ...(await invokeRoute(route, data)), route, lane: "loop", queuedMs: undefined };
    }
    try {
      const outcome = await pool.run<RouteResult>(TaskKind.Route, route.id, data);
      return { ...outcome.value, route, lane: `worker#${outcome.slot}`, queuedMs: outcome.queuedMs };
    } catch (error) {
      return workerFailure(error, route);
    }
  };
}

function answered(result: RouteResult): HandledRequest {
  return { ...result, route: undefined, lane: "loop", queuedMs: undefined };
}

/** The pool could not produce a response: the worker died, or the pool is closing. */
function workerFailure(error: unknown, route: Route): HandledRequest {
  if (error instanceof PoolClosedError) {
    return { ...statusResult(503, "Server is shutting down", { "retry-after": "1" }), route, lane: "worker", queuedMs: undefined };
  }
  const lane = error instanceof WorkerCrashedError || error instanceof TaskError ? `worker#${error.slot}` : "worker";
  const queuedMs = error instanceof WorkerCrashedError || error instanceof TaskError ? error.queuedMs : undefined;
  return { ...errorResult(error), route, lane, queuedMs };
}
