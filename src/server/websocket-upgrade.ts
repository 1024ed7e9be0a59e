// Wiring WebSocket routes into serve(): the HTTP server's `upgrade` event goes to a hub
// (websocket-hub.ts), and each handshake and session is reported the way requests are: an access
// log line (when a refused handshake is answered, and when a session ends, with its close code),
// metrics, the live page. An app without WebSocket routes installs nothing, so its upgrade
// requests stay plain HTTP requests, as before.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { App } from "../app/app.js";
import type { Peer } from "../http/request.js";
import type { RouteResult } from "../http/response.js";
import type { TaskExecutor } from "../lanes/executor.js";
import type { LiveFeed } from "../monitor/live-feed.js";
import type { LoopMonitor } from "../monitor/loop-monitor.js";
import type { Metrics } from "../monitor/metrics.js";
import { WebSocketMetrics } from "../monitor/websocket-metrics.js";
import type { Logger } from "./logger.js";
import { WebSocketHub } from "./websocket-hub.js";
import type { Handshake, SessionReporter } from "./websocket-session.js";

export interface UpgradeParts {
  executor: TaskExecutor;
  peerOf: (req: IncomingMessage) => Peer;
  rootPath: string;
  logger: Logger;
  metrics: Metrics | undefined;
  live: LiveFeed | undefined;
  monitor: LoopMonitor | undefined;
  inFlight: { begin(): void; end(): void };
  pingInterval: number;
  maxMessageSize: number;
  closing(): boolean;
  overloaded?: () => RouteResult | undefined;
  /** The server's request listener: an `Upgrade: h2c` request is served by it as plain HTTP. */
  onRequest(req: IncomingMessage, res: ServerResponse): void;
}

/** Listens to `upgrade` when the app has WebSocket routes; the hub is what shutdown closes. */
export function installWebSocketUpgrade(server: Server, app: App, parts: UpgradeParts): WebSocketHub | undefined {
  if (app.websocketRoutes.length === 0) return undefined;
  const hub = new WebSocketHub(app, {
    executor: parts.executor,
    report: serverReporter(parts),
    pingInterval: parts.pingInterval,
    maxMessageSize: parts.maxMessageSize,
    closing: parts.closing,
    overloaded: parts.overloaded,
    monitor: parts.monitor,
    inFlight: parts.inFlight,
    passThrough: parts.onRequest,
    peerOf: parts.peerOf,
    rootPath: parts.rootPath,
  });
  server.on("upgrade", hub.onUpgrade);
  return hub;
}

function serverReporter({ logger, metrics, live }: UpgradeParts): SessionReporter {
  const sessions = metrics ? new WebSocketMetrics(metrics.registry) : undefined;
  const access = (handshake: Handshake, status: number, durationMs: number, closeCode?: number) => {
    const { req } = handshake;
    logger.access({
      start: performance.timeOrigin + handshake.start,
      client: handshake.peer.client,
      method: req.method ?? "",
      target: req.url ?? "",
      httpVersion: req.httpVersion,
      status,
      durationMs,
      lane: "loop",
      queuedMs: undefined,
      closeCode,
    });
  };
  return {
    began: (handshake) => live?.started(handshake.req, performance.timeOrigin + handshake.start),
    answered(handshake, status, error) {
      const { req, route } = handshake;
      const durationMs = performance.now() - handshake.start;
      const method = req.method ?? "";
      if (error) logger.handlerError("WEBSOCKET", route?.path ?? req.url ?? "", "loop", error);
      metrics?.requestFinished({ method, route: route?.path, lane: "loop", status, durationMs, queuedMs: undefined });
      live?.publish({
        type: "request",
        id: live.idOf(req),
        method,
        target: req.url ?? "",
        route: route?.path ?? null,
        lane: "loop",
        start: performance.timeOrigin + handshake.start,
        queuedMs: null,
        durationMs,
        status,
      });
      // An accepted session is logged when it ends, with its whole duration and its close code.
      if (status === 101) sessions?.opened(route!.path);
      else access(handshake, status, durationMs);
    },
    handlerError(handshake, error) {
      logger.handlerError("WEBSOCKET", handshake.route?.path ?? handshake.req.url ?? "", "loop", error);
    },
    ended(handshake, closed, session) {
      const durationMs = performance.now() - handshake.start;
      access(handshake, 101, durationMs, closed.code);
      sessions?.ended({ route: handshake.route!.path, closeCode: closed.code, durationMs }, session.received, session.sent);
    },
  };
}
