// `req.log` on every lane: a child of the application's logger that carries the request's id,
// route and lane. It is made on first use and never crosses with the request: each side (the
// main thread, a worker thread, a worker process) gives the request its own.
import type { AppLogger } from "./app-log.js";
import { log } from "./app-log.js";

/** Where a request keeps the route it matched: a symbol key, so it stays behind when the request crosses. */
export const matchedRouteKey = Symbol("loopwise.matchedRoute");

export interface RouteName {
  method: string;
  path: string;
}

export type LogLane = "loop" | "worker" | "queue";

/** The logger of a request with `requestId`, matched to `route` (none: the framework answered before routing). */
export function requestLogger(requestId: string | undefined, route: RouteName | undefined, lane: LogLane): AppLogger {
  const bindings: Record<string, unknown> = {};
  if (requestId !== undefined) bindings.request_id = requestId;
  if (route !== undefined) bindings.route = `${route.method} ${route.path}`;
  bindings.lane = lane;
  return log.child(bindings);
}

/** Gives a request that crossed to this side its `log`: not enumerable, so it is never copied on if the request crosses again. */
export function attachRequestLog(req: { requestId?: string }, route: RouteName | undefined, lane: LogLane): void {
  let logger: AppLogger | undefined;
  Object.defineProperty(req, "log", {
    get: () => (logger ??= requestLogger(req.requestId, route, lane)),
    enumerable: false,
    configurable: true,
  });
}

/** The route a request matched, as plain data that crosses (the route itself holds functions). */
export function matchedRoute(req: object): RouteName | undefined {
  const route = (req as { [matchedRouteKey]?: RouteName })[matchedRouteKey];
  return route === undefined ? undefined : { method: route.method, path: route.path };
}
