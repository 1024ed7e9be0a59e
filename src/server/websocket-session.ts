// One WebSocket session, from a routed handshake to the connection's end: validate the
// handshake's inputs and resolve the route's dependencies (a failure refuses the handshake with
// the HTTP answer an HTTP route would give), accept, run the handler on the loop, close with the
// code its outcome calls for, clean the dependencies up, report.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";
import { ServerWebSocket, type WebSocketClosed } from "../app/server-websocket.js";
import { errorResult, ShuttingDownError } from "../app/error-table.js";
import { runMiddleware, type Middleware } from "../app/middleware.js";
import type { HandledRequest } from "../app/route-runner.js";
import type { WebSocketRoute } from "../app/websocket-route.js";
import { cleanUp, resolveDependencies, valuesFor, type ResolvedDependencies, type RunOnPool } from "../deps/resolve.js";
import type { Headers, HttpRequest, Peer, Query, Scheme } from "../http/request.js";
import type { AppLogger } from "../log/app-log.js";
import { requestLogger } from "../log/request-log.js";
import { statusResult, type RouteResult } from "../http/response.js";
import { closeCodes, WebSocketDisconnect, WebSocketError } from "../http/websocket-errors.js";
import { parseCookies } from "../params/cookies.js";
import { parseQuery } from "../params/query.js";
import { serializeError } from "../pool/protocol.js";

/** A handshake on its way: the raw upgrade, when it was read, from whom, and its route once found. */
export interface Handshake {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  /** performance.now() when the upgrade was read. */
  start: number;
  /** Who asked and over which scheme (behind a trusted proxy, what its headers say). */
  peer: Peer;
  route?: WebSocketRoute;
}

/** Where a session's events go: the access log, metrics and live page, or the TestClient. */
export interface SessionReporter {
  /** A WebSocket handshake was read (the live page shows it in flight). */
  began?(handshake: Handshake): void;
  /** The handshake was answered: with its HTTP status when refused, 101 when accepted. */
  answered(handshake: Handshake, status: number, error?: ReturnType<typeof serializeError>): void;
  /** The handler (or a dependency's cleanup) failed after the connection was accepted; it is closed with 1011. */
  handlerError(handshake: Handshake, error: ReturnType<typeof serializeError>): void;
  /** The connection has closed and the handler has finished. */
  ended(handshake: Handshake, closed: WebSocketClosed, session: ServerWebSocket): void;
}

export interface SessionContext {
  runOnPool: RunOnPool;
  /** The app's middleware, run on each handshake before its inputs are checked. */
  middleware: readonly Middleware[];
  /** The server's root path, for `ws.rootPath`. */
  rootPath: string;
  report: SessionReporter;
  /** Whether the server is shutting down: a handshake that gets this far then is refused with 503. */
  closing(): boolean;
  /** The `ws` server that completes handshakes for this route (its message size limit and subprotocols). */
  acceptorFor(route: WebSocketRoute): WebSocketServer;
  /** Watches the connection for keep-alive and shutdown until the returned function is called. */
  track(ws: WebSocket, session: ServerWebSocket): () => void;
  /** Writes an HTTP answer instead of the upgrade, then closes the socket; returns what was sent. */
  refuse(handshake: Handshake, result: RouteResult): RouteResult;
}

/** The handshake as a request for validation and dependencies: plain data (it may cross to a worker), plus a signal. */
class HandshakeRequest implements HttpRequest {
  readonly method = "GET";
  query: Query = {};
  cookies: Record<string, string> = {};
  body = undefined;
  readonly client: string;
  readonly scheme: Scheme;
  readonly #signal: AbortSignal;
  readonly #routePath: string;
  #log: AppLogger | undefined;

  constructor(
    readonly url: string,
    readonly path: string,
    public params: Record<string, string>,
    public headers: Headers,
    peer: Peer,
    readonly rootPath: string,
    signal: AbortSignal,
    routePath: string,
  ) {
    this.#routePath = routePath;
    // The scheme of the handshake: "https" for wss:// (over TLS here, or at a trusted proxy).
    this.client = peer.client;
    this.scheme = peer.scheme;
    this.#signal = signal;
  }

  /** Aborts when the connection closes: before the handshake is answered, or at the session's end. */
  get signal(): AbortSignal {
    return this.#signal;
  }

  get log(): AppLogger {
    return (this.#log ??= requestLogger(undefined, { method: "WEBSOCKET", path: this.#routePath }, "loop"));
  }
}

/** Runs a routed handshake to its end. Never rejects: every failure is answered, reported or both. */
export async function runSession(
  context: SessionContext,
  handshake: Handshake,
  url: string,
  path: string,
  params: Record<string, string>,
): Promise<void> {
  const route = handshake.route!;
  const gone = new AbortController();
  handshake.socket.once("close", () => gone.abort());
  const request = new HandshakeRequest(url, path, params, handshake.req.headers, handshake.peer, context.rootPath, gone.signal, route.path);
  if (context.middleware.length > 0 && !(await passesMiddleware(context, handshake, request, route))) return;
  const resolved = await prepare(context, handshake, request, route);
  if (!resolved) return;
  if (gone.signal.aborted || context.closing()) {
    await cleanUp(resolved.cleanups);
    if (gone.signal.aborted) context.report.answered(handshake, 499);
    else refuse(context, handshake, errorResult(new ShuttingDownError()));
    return;
  }
  const ws = await accept(context.acceptorFor(route), handshake);
  if (!ws) {
    // `ws` found the handshake wrong and answered 400 itself, or the client left meanwhile.
    await cleanUp(resolved.cleanups);
    context.report.answered(handshake, gone.signal.aborted && !handshake.socket.writableFinished ? 499 : 400);
    return;
  }
  const session = new ServerWebSocket(ws, request);
  const untrack = context.track(ws, session);
  context.report.answered(handshake, 101);
  let failure: { error: unknown } | undefined;
  try {
    await route.handler(session, valuesFor(route.deps, resolved.values));
  } catch (error) {
    // The connection closed under the handler: the session is over, not failed, for its dependencies too.
    if (!isA(error, WebSocketDisconnect)) failure = { error };
  }
  if (resolved.cleanups.length > 0) failure = await cleanUp(resolved.cleanups, failure);
  closeAfter(context, handshake, session, failure);
  const closed = await session.closed;
  untrack();
  context.report.ended(handshake, closed, session);
}

/**
 * The app's middleware sees a handshake as it sees any request: one that answers early (a
 * `trustedHost()` refusal, an auth check) refuses the handshake with that answer; one that calls
 * `next()` lets it go on. What it adds to the answer of `next()` has no HTTP answer to go on.
 */
async function passesMiddleware(context: SessionContext, handshake: Handshake, request: HttpRequest, route: WebSocketRoute): Promise<boolean> {
  const goOn: HandledRequest = { status: 101, headers: {}, body: "", route: undefined, lane: "loop", queuedMs: undefined };
  const answer = await runMiddleware(context.middleware, request, async () => goOn, route.errors);
  if (answer === goOn) return true;
  refuse(context, handshake, answer);
  return false;
}

/** Validates the handshake's inputs and resolves the dependencies; on failure answers the handshake and resolves undefined. */
async function prepare(
  context: SessionContext,
  handshake: Handshake,
  request: HandshakeRequest,
  route: WebSocketRoute,
): Promise<ResolvedDependencies | undefined> {
  try {
    const queryStart = request.url.indexOf("?");
    if (queryStart >= 0) request.query = parseQuery(request.url.slice(queryStart + 1));
    if (request.headers.cookie !== undefined) request.cookies = parseCookies(request.headers.cookie as string);
    await route.inputs?.apply(request);
    return await resolveDependencies(route.steps, request, route.steps.length > 0 ? context.runOnPool : undefined);
  } catch (error) {
    // Before the connection exists a WebSocketError can only refuse it, as uvicorn does with a close before accept.
    const refusal = isA(error, WebSocketError) ? statusResult(403, (error as WebSocketError).reason || "Forbidden") : undefined;
    refuse(context, handshake, refusal ?? (await route.errors.respond(error, request)));
    return undefined;
  }
}

function refuse(context: SessionContext, handshake: Handshake, result: RouteResult): void {
  const sent = context.refuse(handshake, result);
  context.report.answered(handshake, sent.status, sent.error);
}

/** Completes the handshake; resolves undefined if the socket closes first (refused by `ws`, or the client left). */
function accept(acceptor: WebSocketServer, handshake: Handshake): Promise<WebSocket | undefined> {
  const { req, socket, head } = handshake;
  return new Promise((resolve) => {
    const closed = () => resolve(undefined);
    socket.once("close", closed);
    try {
      acceptor.handleUpgrade(req, socket, head, (ws) => {
        socket.off("close", closed);
        resolve(ws);
      });
    } catch {
      socket.destroy();
    }
  });
}

/** The close the handler's outcome calls for (nothing when the connection is already closing). */
function closeAfter(context: SessionContext, handshake: Handshake, session: ServerWebSocket, failure: { error: unknown } | undefined): void {
  if (!failure || isA(failure.error, WebSocketDisconnect)) {
    // A cleanup may raise WebSocketDisconnect too (from a send after the close): still a normal end.
    session.close(closeCodes.normal);
  } else if (isA(failure.error, WebSocketError)) {
    const { code, reason } = failure.error as WebSocketError;
    session.close(code, reason);
  } else {
    context.report.handlerError(handshake, serializeError(failure.error));
    session.close(closeCodes.internalError, "Internal Error");
  }
}

/** `instanceof` that survives a Proxy whose prototype trap throws. */
function isA(value: unknown, type: abstract new (...args: any[]) => unknown): boolean {
  try {
    return value instanceof type;
  } catch {
    return false;
  }
}
