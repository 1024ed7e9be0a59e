// The loop monitor as a server process starts it (serve() and a `loopwise worker` process alike):
// every route of the app, with where its handler runs in this process, and one report per block.
import { levelNumber, logLevels, type LogLevel } from "../log/levels.js";
import type { App } from "../app/app.js";
import { handlerLane } from "../app/router.js";
import { describeBlock } from "../monitor/describe-block.js";
import { LoopMonitor, type LoopBlock, type MonitoredRoute } from "../monitor/loop-monitor.js";
import { laneOf } from "../threads/lane.js";
import type { LogFormat } from "./logger.js";

export function startLoopMonitor(
  app: App,
  thresholdMs: number,
  config: { logFormat: LogFormat; logLevel?: LogLevel },
  onBlock: (block: LoopBlock, route: string | undefined, message: string) => void,
): Promise<LoopMonitor> {
  const routes: MonitoredRoute[] = app.routes.map((route) => ({
    label: `${route.method} ${route.path}`,
    lane: handlerLane(route),
    declaredAsync: laneOf(route.handler) === "loop",
    handler: route.handler,
    dependencies: route.plan.map((dependency) => dependency.fn),
  }));
  // WebSocket routes follow the HTTP ones: a session's tag carries its index in this list.
  routes.push(...monitoredWebSocketRoutes(app));
  return LoopMonitor.start({
    thresholdMs,
    routes,
    format: levelNumber(config.logLevel) > logLevels.warning ? "none" : config.logFormat,
    onBlock: (block) => onBlock(block, block.routeId === undefined ? undefined : routes[block.routeId]?.label, describeBlock(block, routes)),
  });
}

/** The loop monitor's entries for WebSocket routes, after the HTTP routes (ids offset by their count). */
export function monitoredWebSocketRoutes(app: App): MonitoredRoute[] {
  return app.websocketRoutes.map((route) => ({
    label: `WEBSOCKET ${route.path}`,
    lane: "loop",
    declaredAsync: true,
    handler: route.handler,
    dependencies: route.plan.map((dependency) => dependency.fn),
    advice: "A WebSocket handler runs on the event loop: move the blocking call into await offload(fn, ...args).",
  }));
}
