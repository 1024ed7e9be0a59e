// HTTP middleware in Starlette's spirit: a function of the request and `next`. It runs on the
// event loop, around routing (app-wide) or around a router's routes, and may answer early,
// or read and change the response `next()` gives it, streamed bodies included.
import type { HttpRequest } from "../http/request.js";
import { asResponse, toResult, type OutgoingResponse, type RouteResult } from "../http/response.js";
import type { ErrorHandlers } from "./error-handlers.js";
import type { HandledRequest } from "./route-runner.js";

/** Runs the rest of the chain (the next middleware, at the end the route) and gives its response, which may be changed in place. */
export type Next = () => Promise<OutgoingResponse>;

/**
 * A middleware: returns the response of `next()` (changed or not), or answers itself with any
 * value a handler may return (`json(...)`, `text(...)`, a plain object...).
 *
 *     app.use(async (req, next) => {
 *       const started = performance.now();
 *       const response = await next();
 *       response.headers["server-timing"] = `app;dur=${performance.now() - started}`;
 *       return response;
 *     });
 */
export type Middleware = (req: HttpRequest, next: Next) => unknown;

/**
 * Runs `req` through `chain`, then `endpoint`. Never rejects: an error a middleware throws is
 * answered by the app's exception handlers (a 500 otherwise), like a handler's. The answer keeps
 * the route, lane and queue wait of the endpoint's, for the access log.
 */
export function runMiddleware(
  chain: readonly Middleware[],
  req: HttpRequest,
  endpoint: () => Promise<HandledRequest>,
  errors: ErrorHandlers,
): Promise<HandledRequest> {
  let inner: HandledRequest | undefined;
  const dispatch = async (index: number): Promise<RouteResult> => {
    if (index === chain.length) return asResponse(lowerCaseHeaders((inner = await endpoint())));
    const middleware = chain[index]!;
    let called = false;
    let fromNext: RouteResult | undefined;
    // An error below answers there, so the middleware above still sees (and can mark) the 500.
    const next: Next = async () => {
      if (called) throw new Error(`${describeMiddleware(middleware, index)} called next() twice`);
      called = true;
      return (fromNext = await dispatch(index + 1));
    };
    try {
      const value = await middleware(req, next);
      // Checked first: a middleware that called next() without awaiting it has no response from it yet.
      if (value === undefined) {
        const hint = called && fromNext === undefined ? " (it called next() without awaiting it)" : "";
        throw new TypeError(`${describeMiddleware(middleware, index)} gave no response${hint}: return the response of next(), or one of its own`);
      }
      if (value === fromNext) return fromNext;
      return asResponse(lowerCaseHeaders(await toResult(value, 200)));
    } catch (error) {
      return asResponse(await errors.respond(error, req));
    }
  };
  return dispatch(0).then((result) => withRoute(result, inner, req.requestId));
}

/** "middleware #2 (timing)": its place in the chain (1 is outermost) and its name when it has one. */
function describeMiddleware(middleware: Middleware, index: number): string {
  const name = typeof middleware.name === "string" && middleware.name !== "" ? ` (${middleware.name})` : "";
  return `middleware #${index + 1}${name}`;
}

/** Middleware reads `headers["content-type"]`: a handler's `Content-Type` is found under that name too. */
function lowerCaseHeaders<T extends RouteResult>(result: T): T {
  const { headers } = result;
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (lower === name) continue;
    const value = headers[name]!;
    delete headers[name];
    const existing = headers[lower];
    headers[lower] = lower === "set-cookie" && existing !== undefined ? [...[existing].flat(), ...[value].flat()] : value;
  }
  return result;
}

/**
 * Decorates the answer in place (it is ours alone) with where the route ran, for the access log;
 * what else the endpoint's answer carries (its background tasks) stays with it.
 */
function withRoute(result: RouteResult, inner: HandledRequest | undefined, requestId: string | undefined): HandledRequest {
  const handled = result as HandledRequest;
  handled.route = inner?.route;
  handled.lane = inner?.lane ?? "loop";
  handled.queuedMs = inner?.queuedMs;
  handled.requestId = requestId ?? inner?.requestId;
  return handled;
}

/** Checks what `use()` is given, at the call rather than at the first request. */
export function checkMiddleware(middleware: unknown[]): Middleware[] {
  middleware.forEach((fn, i) => {
    if (typeof fn !== "function") throw new TypeError(`use() takes middleware functions (req, next) => response; item ${i} is ${typeof fn}`);
  });
  return middleware as Middleware[];
}
