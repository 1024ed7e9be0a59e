import { errorResult, toResult, type RouteResult } from "./response.js";
import type { HttpRequest } from "./request.js";
import type { Route } from "./router.js";

/**
 * Calls a route's handler and turns its value or error into a response. The same code runs on
 * the loop lane (main thread) and inside a worker, so both lanes answer identically.
 */
export function invokeRoute(route: Route, req: HttpRequest): RouteResult | Promise<RouteResult> {
  try {
    const value = route.handler(req);
    if (value instanceof Promise) {
      return value.then((resolved) => toResult(resolved, route.status)).catch(errorResult);
    }
    const result = toResult(value, route.status);
    return result instanceof Promise ? result.catch(errorResult) : result;
  } catch (error) {
    return errorResult(error);
  }
}
