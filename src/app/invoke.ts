import { errorResult, toResult, type RouteResult } from "./response.js";
import type { HttpRequest } from "./request.js";
import type { Route } from "./router.js";

/**
 * Calls a route's handler and turns its value or error into a response. The same code runs on
 * the loop lane (main thread) and inside a worker, so both lanes answer identically.
 */
export function invokeRoute(route: Route, req: HttpRequest): RouteResult | Promise<RouteResult> {
  let value: unknown;
  try {
    value = route.handler(req);
  } catch (error) {
    return errorResult(error);
  }
  return value instanceof Promise ? value.then((resolved) => settle(resolved, route.status), errorResult) : settle(value, route.status);
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
