import { errorResult, toResult, type RouteResult } from "./response.js";
import type { HttpRequest } from "./request.js";
import type { Route } from "./router.js";

/**
 * Calls a route's handler and turns its value or error into a response. The same code runs on
 * the loop lane (main thread) and inside a worker, so both lanes answer identically.
 */
export function invokeRoute(route: Route, req: HttpRequest): RouteResult | Promise<RouteResult>;
/** `finish` is applied to the result in the same step, so an async handler costs one promise more, not two. */
export function invokeRoute<T>(route: Route, req: HttpRequest, finish: (result: RouteResult) => T): T | Promise<T>;
export function invokeRoute(route: Route, req: HttpRequest, finish = (result: RouteResult): unknown => result): unknown {
  let value: unknown;
  try {
    value = route.handler(req);
  } catch (error) {
    return finish(errorResult(error));
  }
  if (value instanceof Promise) {
    return value.then(
      (resolved) => finishWith(settle(resolved, route.status), finish),
      (error) => finish(errorResult(error)),
    );
  }
  return finishWith(settle(value, route.status), finish);
}

function finishWith<T>(result: RouteResult | Promise<RouteResult>, finish: (result: RouteResult) => T): T | Promise<T> {
  return result instanceof Promise ? result.then(finish) : finish(result);
}

/** A value that cannot become a response (a BigInt, a cycle, a failing web Response) is a 500 too. */
function settle(value: unknown, status: number): RouteResult | Promise<RouteResult> {
  try {
    const result = toResult(value, status);
    return result instanceof Promise ? result.catch(errorResult) : result;
  } catch (error) {
    return errorResult(error);
  }
}
