// What answers a server's (or the TestClient's) WebSocket handshakes: checks each one, finds its
// route (404, 400 and 503 go back as HTTP answers on the socket), runs each session
// (websocket-session.ts), pings open connections to drop dead peers, and closes them all with
// 1001 at shutdown.
import { ServerResponse, type IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { App } from "../app/app.js";
import { errorResult, ShuttingDownError } from "../app/error-table.js";
import { pooledDependencyRunner } from "../app/pooled-dependency.js";
import type { ServerWebSocket } from "../app/server-websocket.js";
import type { TaskExecutor } from "../lanes/executor.js";
import type { WebSocketRoute } from "../app/websocket-route.js";
import { statusResult, type RouteResult } from "../http/response.js";
import { closeCodes, shutdownCloseReason } from "../http/websocket-errors.js";
import type { LoopMonitor, RequestTag } from "../monitor/loop-monitor.js";
import { originForm } from "../params/request-target.js";
import { serializeError } from "../pool/protocol.js";
import type { Peer } from "../http/request.js";
import { writeResponse } from "./frame-response.js";
import { socketPeer } from "./proxy-headers.js";
import { runSession, type Handshake, type SessionContext, type SessionReporter } from "./websocket-session.js";

export interface WebSocketHubOptions {
  /** Runs plain dependencies of WebSocket routes (the worker pool). */
  executor: TaskExecutor;
  report: SessionReporter;
  /** Ping every open connection this often, ms; one that has not answered the previous ping is dropped (0: never). */
  pingInterval: number;
  /** Largest message for routes that set no `maxMessageSize`, bytes. */
  maxMessageSize: number;
  closing(): boolean;
  /** The answer for a handshake past the server's concurrency limit, when it is reached now (--limit-concurrency). */
  overloaded?: () => RouteResult | undefined;
  monitor?: LoopMonitor;
  /** Counts sessions as in flight, so shutdown waits for their handlers. */
  inFlight?: { begin(): void; end(): void };
  /** Serves an upgrade that is not to WebSocket (`Upgrade: h2c`) as the plain HTTP request it also is. */
  passThrough?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Who is asking: the socket's address, or what a trusted proxy's headers say (default: the socket's). */
  peerOf?: (req: IncomingMessage) => Peer;
  /** The server's root path (default ""). */
  rootPath?: string;
}

/** A peer has this long to answer our close frame before its connection is cut. */
const closeHandshakeMs = 5000;

interface Watched {
  session: ServerWebSocket;
  alive: boolean;
}

export class WebSocketHub {
  private readonly acceptors = new Map<WebSocketRoute, WebSocketServer>();
  private readonly watched = new Map<WebSocket, Watched>();
  private pinger: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly context: SessionContext;

  constructor(
    private readonly app: App,
    private readonly options: WebSocketHubOptions,
  ) {
    this.context = {
      runOnPool: pooledDependencyRunner(app.dependencyIds, options.executor),
      middleware: app.middleware,
      rootPath: options.rootPath ?? "",
      report: options.report,
      closing: () => this.stopping || options.closing(),
      acceptorFor: (route) => this.acceptorFor(route),
      track: (ws, session) => this.track(ws, session),
      refuse: (handshake, result) => answerOnSocket(handshake.req, handshake.socket, result),
    };
  }

  /** The `upgrade` listener. */
  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node gives an upgraded socket no error listener: a reset before ws takes it over must not crash the process.
    socket.on("error", ignore);
    if (!/^websocket$/i.test(String(req.headers.upgrade ?? "").trim())) {
      this.passThrough(req, socket);
      return;
    }
    const peer = this.options.peerOf?.(req) ?? socketPeer(req, (req.socket as { encrypted?: boolean }).encrypted === true ? "https" : "http");
    const handshake: Handshake = { req, socket, head, start: performance.now(), peer };
    this.options.report.began?.(handshake);
    const { monitor } = this.options;
    if (monitor) monitor.run((tag, h: Handshake) => this.route(h, tag), handshake, undefined);
    else this.route(handshake, undefined);
  };

  /**
   * Closes every connection with 1001 and refuses new handshakes with 503. A peer that has not
   * answered the close within 5 s, or half the grace period if shorter (the handlers need the
   * rest to finish), is cut.
   */
  shutdown(graceMs: number): void {
    this.stopping = true;
    clearInterval(this.pinger);
    for (const { session } of this.watched.values()) session.close(closeCodes.goingAway, shutdownCloseReason);
    if (this.watched.size === 0) return;
    setTimeout(
      () => {
        for (const ws of this.watched.keys()) ws.terminate();
      },
      Math.min(graceMs / 2, closeHandshakeMs),
    ).unref();
  }

  private route(handshake: Handshake, tag: RequestTag | undefined): void {
    const { req } = handshake;
    const url = originForm(req.url ?? "/");
    const queryStart = url.indexOf("?");
    const path = queryStart < 0 ? url : url.slice(0, queryStart);
    const match = this.app.matchWebSocket(path);
    const problem = handshakeProblem(req);
    const busy = match.kind === "route" && problem === undefined ? this.options.overloaded?.() : undefined;
    if (match.kind !== "route" || this.context.closing() || problem || busy) {
      const refusal =
        problem ??
        (match.kind === "bad-path" ? statusResult(400, "Malformed request path") : undefined) ??
        (match.kind === "not-found" ? statusResult(404, "Not Found") : undefined) ??
        (this.context.closing() ? errorResult(new ShuttingDownError()) : busy!);
      this.refuse(handshake, refusal);
      if (tag) this.options.monitor!.finished(tag);
      return;
    }
    handshake.route = match.route;
    if (tag) this.options.monitor!.routed(this.app.routes.length + match.route.id);
    this.options.inFlight?.begin();
    void runSession(this.context, handshake, url, path, match.params)
      .catch((error) => {
        // A bug of ours, not the app's: reported as the handler's, and the socket is not left hanging.
        this.options.report.handlerError(handshake, { ...serializeError(error), name: "InternalError" });
        handshake.socket.destroy();
      })
      .finally(() => {
        if (tag) this.options.monitor!.finished(tag);
        this.options.inFlight?.end();
      });
  }

  private refuse(handshake: Handshake, result: RouteResult): void {
    const sent = answerOnSocket(handshake.req, handshake.socket, result);
    this.options.report.answered(handshake, sent.status, sent.error);
  }

  private passThrough(req: IncomingMessage, socket: Duplex): void {
    const { passThrough } = this.options;
    const hasBody = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
    if (!passThrough || hasBody) {
      // Its body was left unread on the socket by Node's parser: it cannot be served as HTTP.
      answerOnSocket(req, socket, statusResult(400, `Cannot upgrade to ${JSON.stringify(String(req.headers.upgrade))} here`));
      return;
    }
    req.push(null);
    passThrough(req, responseOn(req, socket));
  }

  private acceptorFor(route: WebSocketRoute): WebSocketServer {
    let acceptor = this.acceptors.get(route);
    if (!acceptor) {
      const offered = route.subprotocols;
      acceptor = new WebSocketServer({
        noServer: true,
        clientTracking: false,
        perMessageDeflate: false,
        maxPayload: route.maxMessageSize ?? this.options.maxMessageSize,
        handleProtocols: (protocols: Set<string>) => offered.find((p) => protocols.has(p)) ?? false,
        closeTimeout: closeHandshakeMs,
      } as ConstructorParameters<typeof WebSocketServer>[0]);
      this.acceptors.set(route, acceptor);
    }
    return acceptor;
  }

  private track(ws: WebSocket, session: ServerWebSocket): () => void {
    // Errors (a frame too large, bad UTF-8, a reset) are followed by a close with its code: that is their report.
    ws.on("error", ignore);
    if (this.stopping) session.close(closeCodes.goingAway, shutdownCloseReason);
    const watched: Watched = { session, alive: true };
    const heard = () => {
      watched.alive = true;
    };
    ws.on("pong", heard).on("ping", heard).on("message", heard);
    this.watched.set(ws, watched);
    if (this.pinger === undefined && this.options.pingInterval > 0 && !this.stopping) {
      this.pinger = setInterval(() => this.ping(), this.options.pingInterval);
      this.pinger.unref();
    }
    return () => {
      this.watched.delete(ws);
      if (this.watched.size === 0) {
        clearInterval(this.pinger);
        this.pinger = undefined;
      }
    };
  }

  /** A peer that has not been heard from since the last ping is gone (a cable pulled, a laptop shut): its connection is cut, close code 1006. */
  private ping(): void {
    for (const [ws, watched] of this.watched) {
      if (!watched.alive) {
        ws.terminate();
        continue;
      }
      watched.alive = false;
      try {
        ws.ping();
      } catch {
        // Closing already: its close event is on its way.
      }
    }
  }
}

/** Why a WebSocket handshake cannot be taken, as the 400 answering it (RFC 6455 §4.2.1), or undefined. */
function handshakeProblem(req: IncomingMessage): RouteResult | undefined {
  if (req.method !== "GET") return statusResult(400, "A WebSocket handshake must be a GET request");
  const key = req.headers["sec-websocket-key"];
  if (typeof key !== "string" || !/^[+/0-9A-Za-z]{22}==$/.test(key.trim())) return statusResult(400, "Missing or invalid Sec-WebSocket-Key header");
  // 13 is RFC 6455's version; 8 was a 2011 draft (hybi-10) no browser has sent since then, and the
  // 400 advertises only what it asks for (RFC 6455 §4.4).
  if (req.headers["sec-websocket-version"] !== "13") {
    return statusResult(400, "Unsupported WebSocket version: Sec-WebSocket-Version must be 13", { "sec-websocket-version": "13" });
  }
  return undefined;
}

/** A response written on a socket Node has handed over (an upgrade), closed once sent. */
function responseOn(req: IncomingMessage, socket: Duplex): ServerResponse {
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Parameters<ServerResponse["assignSocket"]>[0]);
  res.on("finish", () => {
    res.detachSocket(socket as Parameters<ServerResponse["detachSocket"]>[0]);
    socket.end();
  });
  return res;
}

/** Answers an upgrade with an HTTP response instead of 101; returns what was sent. */
export function answerOnSocket(req: IncomingMessage, socket: Duplex, result: RouteResult): RouteResult {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return { ...result, status: 499 };
  }
  return writeResponse(responseOn(req, socket), result, true);
}

const ignore = () => {};
