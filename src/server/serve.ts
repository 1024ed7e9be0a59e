import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { App } from "../app/app.js";
import { createRequestHandler, type HandledRequest } from "../app/handle-request.js";
import { internalErrorResult } from "../app/response.js";
import { serializeError } from "../pool/protocol.js";
import { writeResponse } from "./frame-response.js";
import { containStrayErrors } from "./stray-errors.js";
import type { ResourceLimits } from "node:worker_threads";
import { setActivePool } from "../threads/offload.js";
import { sharedBuffers } from "../threads/shared-state.js";
import { defaultWorkerMemoryMb, WorkerPool } from "../pool/pool.js";
import { Logger, type LogFormat, type LoggerOptions } from "./logger.js";
import { laneOf } from "../threads/lane.js";
import { describeBlock } from "../monitor/describe-block.js";
import { LiveFeed } from "../monitor/live-feed.js";
import { LoopMonitor, type LoopBlock, type MonitoredRoute, type RequestTag } from "../monitor/loop-monitor.js";
import { Metrics } from "../monitor/metrics.js";

export interface ServeOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Worker threads in the pool (default: twice the cores, 4 to 16). */
  poolSize?: number;
  logFormat?: LogFormat;
  accessLog?: boolean;
  /** Replace where log lines go (tests, embedding). */
  logWrite?: LoggerOptions["write"];
  /** Largest request body, bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Deepest nesting of arrays and objects a JSON body may have; deeper is a 400 (default 256, `defaultJsonDepthLimit`). */
  jsonDepthLimit?: number;
  /** Connections the OS holds for accept() under a burst; Node's default of 511 drops more during floods (default 2048). */
  backlog?: number;
  /** Idle keep-alive connections are closed after this many ms (default 5000). */
  keepAliveTimeout?: number;
  /** A client must send all request headers within this many ms, else 408 (default 10000; cuts slowloris). */
  headersTimeout?: number;
  /** A client must send the whole request within this many ms, else 408 (default 60000). */
  requestTimeout?: number;
  /** Default time limit for a handler, ms; routes may set their own (default: none). */
  timeout?: number;
  /** Worker-lane requests allowed to wait for a worker; more are answered 503 (default 1024). */
  maxQueue?: number;
  /**
   * Heap cap of each worker, MB (default: a thirty-second of the machine's memory, 128 MB to 1 GB).
   * A worker that exceeds it dies alone: its request gets a 500, it is replaced.
   */
  workerMemoryMb?: number;
  /** Every memory limit of each worker (overrides `workerMemoryMb`). */
  workerResourceLimits?: ResourceLimits;
  /** How long shutdown waits for in-flight requests, ms (default 30000). */
  gracePeriod?: number;
  /** Shut down gracefully on SIGINT/SIGTERM and exit (default false; `app.listen()` and the CLI turn it on). */
  handleSignals?: boolean;
  /**
   * Log an error no request owns (a stray timer's throw, an unawaited rejection) and keep serving,
   * instead of letting the process die of it; see containStrayErrors. For a server that owns its
   * process: defaults to `handleSignals`, and the CLI turns it on.
   */
  containStrayErrors?: boolean;
  /** Where the app lives, for the workers; defaults to the module that created the app. */
  moduleUrl?: string;
  exportName?: string;
  /**
   * Warn when the event loop is blocked at least `thresholdMs` (default 100), naming the route;
   * `false` turns the monitor off. On by default.
   */
  loopMonitor?: { thresholdMs?: number } | false;
  /** Serve Prometheus metrics at /metrics (default false). */
  metrics?: boolean;
  /** Development extras: the live lanes page at /_loopwise (default false; never turn it on in production). */
  dev?: boolean;
  /** OS niceness added to worker threads so they yield the cores to the loop (default 5). */
  workerNiceness?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly pool: WorkerPool;
  readonly server: Server;
  /** Stops accepting, finishes in-flight requests on both lanes, ends the pool. Resolves true if all finished in time. */
  close(reason?: string): Promise<boolean>;
}

/**
 * Starts the pool (each worker imports the app and checks its routes), then the HTTP server.
 * The uvicorn part of Loopwise: startup lines, access log, graceful shutdown.
 */
export async function serve(app: App, options: ServeOptions = {}): Promise<RunningServer> {
  const logger = new Logger({ format: options.logFormat, accessLog: options.accessLog, write: options.logWrite });
  const moduleUrl = options.moduleUrl ?? app.moduleUrl;
  if (!moduleUrl) throw new Error("cannot tell which module defines the app; pass moduleUrl or start it with `loopwise run module:app`");
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  const gracePeriod = options.gracePeriod ?? 30_000;
  if (options.jsonDepthLimit !== undefined && !(Number.isInteger(options.jsonDepthLimit) && options.jsonDepthLimit >= 1)) {
    throw new RangeError(`jsonDepthLimit must be a whole number of levels, at least 1, got ${options.jsonDepthLimit}`);
  }

  // Declared before the pool, whose worker-exit reports they count.
  let metrics: Metrics | undefined;
  logger.startedProcess();
  logger.waitingForStartup();
  const pool = new WorkerPool({
    size: options.poolSize,
    moduleUrl,
    exportName: options.exportName,
    appIndex: app.appIndex,
    signature: app.signature(),
    niceness: options.workerNiceness ?? 5,
    maxQueue: options.maxQueue,
    resourceLimits: options.workerResourceLimits ?? { maxOldGenerationSizeMb: options.workerMemoryMb ?? defaultWorkerMemoryMb() },
    sharedBuffers,
    onWorkerExit: (event) => {
      logger.workerExited(event);
      metrics?.workerReplaced(event.reason);
    },
    onRestartFailed: (event) => logger.restartFailed(event),
  });
  try {
    await pool.start();
    for (const hook of app.hooks.startup) await hook();
  } catch (error) {
    logger.startupFailed(error as Error);
    logger.flush();
    await pool.terminate();
    throw error;
  }
  logger.poolReady(pool.size, app.routes.length);
  setActivePool(pool);

  if (options.metrics) metrics = new Metrics(pool);
  const live = options.dev ? new LiveFeed(pool) : undefined;
  const onBlock = (block: LoopBlock, route: string | undefined, message: string) => {
    logger.loopBlocked(block, route, message);
    metrics?.loopBlocked(route ?? `(${block.culprit})`, block.durationMs);
    live?.publish({ type: "block", start: block.start, durationMs: block.durationMs, route: route ?? null, culprit: block.culprit, message });
  };
  const monitor = options.loopMonitor === false ? undefined : await startLoopMonitor(app, options.loopMonitor?.thresholdMs, logger.format, onBlock);
  const handle = createRequestHandler(app, pool, { bodyLimit, jsonDepthLimit: options.jsonDepthLimit, timeout: options.timeout, monitor });
  let inFlight = 0;
  let closing = false;
  let onIdle: (() => void) | undefined;

  const finished = (tag: RequestTag | undefined) => {
    if (tag) monitor!.finished(tag);
    if (--inFlight === 0 && onIdle) onIdle();
  };
  /** Never throws: the pipeline calls it from promise callbacks, where a throw would be an unhandled rejection. */
  const respond = (req: IncomingMessage, res: ServerResponse, start: number, client: string, tag: RequestTag | undefined, result: HandledRequest) => {
    try {
      const sent = writeResponse(res, result, closing);
      if (sent.error) logger.handlerError(req.method ?? "", req.url ?? "", result.lane, sent.error);
      report(req, start, client, result, sent.status);
    } catch (error) {
      return internalError(req, res, tag, error);
    }
    finished(tag);
  };
  const report = (req: IncomingMessage, start: number, client: string, result: HandledRequest, status: number) => {
    const durationMs = performance.now() - start;
    const route = result.route?.path;
    metrics?.requestFinished({ method: req.method ?? "", route, lane: result.lane, status, durationMs, queuedMs: result.queuedMs });
    live?.publish({
      type: "request",
      id: live.idOf(req),
      method: req.method ?? "",
      target: req.url ?? "",
      route: route ?? null,
      lane: result.lane,
      start: performance.timeOrigin + start,
      queuedMs: result.queuedMs ?? null,
      durationMs,
      status,
    });
    if (logger.accessLogEnabled) {
      logger.access({
        start: performance.timeOrigin + start,
        client,
        method: req.method ?? "",
        target: req.url ?? "",
        httpVersion: req.httpVersion,
        status,
        durationMs,
        lane: result.lane,
        queuedMs: result.queuedMs,
      });
    }
  };
  const internalError = (req: IncomingMessage, res: ServerResponse, tag: RequestTag | undefined, error: unknown) => {
    // The pipeline turns every error into a response; reaching here is a bug, still answered.
    logger.handlerError(req.method ?? "", req.url ?? "", "loop", { ...serializeError(error), name: "InternalError" });
    try {
      // Half a response cannot be finished with another: the client sees the connection drop.
      if (!res.headersSent) writeResponse(res, internalErrorResult({ name: "InternalError", message: "" }), true);
      else if (!res.writableEnded) res.destroy();
    } catch {
      res.destroy();
    }
    finished(tag);
  };

  const headersTimeout = options.headersTimeout ?? 10_000;
  const serverOptions = {
    keepAliveTimeout: options.keepAliveTimeout ?? 5000,
    headersTimeout,
    requestTimeout: Math.max(options.requestTimeout ?? 60_000, headersTimeout),
    // How often Node checks the two timeouts above; its default of 30 s would let them overrun.
    connectionsCheckingInterval: Math.min(1000, headersTimeout),
  };
  const dispatch = (tag: RequestTag | undefined, req: IncomingMessage, res: ServerResponse) => {
    const start = performance.now();
    live?.started(req, performance.timeOrigin + start);
    const client = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    inFlight++;
    handle(
      req,
      client,
      (result) => respond(req, res, start, client, tag, result),
      (error) => internalError(req, res, tag, error),
    );
  };
  // Loopwise's own pages, answered before the app's routes when turned on.
  const internal = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (metrics && req.url === "/metrics") {
      metrics.render().then(
        (text) => {
          res.writeHead(200, { "content-type": metrics!.contentType });
          res.end(text);
        },
        (error) => {
          logger.handlerError("GET", "/metrics", "loop", serializeError(error));
          writeResponse(res, internalErrorResult({ name: "InternalError", message: "" }), false);
        },
      );
      return true;
    }
    return live?.serve(req, res) ?? false;
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if ((metrics || live) && internal(req, res)) return;
    if (monitor) monitor.run(dispatch, req, res);
    else dispatch(undefined, req, res);
  };
  const server = createServer(serverOptions, onRequest);
  // `Expect: 100-continue`: a body declared over the limit is refused (413, from the pipeline)
  // before the client sends it; Node's default would invite it first.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (!(Number(req.headers["content-length"]) > bodyLimit)) res.writeContinue();
    onRequest(req, res);
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || error.code === "ECONNRESET") return socket.destroy();
    const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    const reason = STATUS_CODES[status]!;
    const body = JSON.stringify({ detail: reason });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `connection: close\r\n\r\n${body}`,
    );
  });

  const host = options.host ?? "127.0.0.1";
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port: options.port ?? 8000, host, backlog: options.backlog ?? 2048 }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    // The port is taken, or the host is wrong: nothing may keep running behind the error.
    logger.startupFailed(error as Error);
    logger.flush();
    monitor?.close();
    await pool.terminate();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  logger.startupComplete();
  if (metrics) logger.endpoint("metrics", "Prometheus metrics", `${url}/metrics`);
  if (live) logger.endpoint("live-page", "Live lanes page (dev)", `${url}/_loopwise`);
  logger.listening(url);

  const releaseStrayErrors = (options.containStrayErrors ?? options.handleSignals) ? containStrayErrors(logger) : undefined;
  let closed: Promise<boolean> | undefined;
  const close = (reason = "close") =>
    (closed ??= (async () => {
      closing = true;
      logger.shuttingDown(reason);
      live?.close();
      server.close();
      server.closeIdleConnections();
      let finished = true;
      if (inFlight > 0) {
        logger.waitingForRequests(inFlight);
        finished = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), gracePeriod);
          onIdle = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        if (!finished) logger.graceExpired(inFlight, gracePeriod);
      }
      server.closeAllConnections();
      monitor?.close();
      if (finished) await pool.close();
      else await pool.terminate();
      setActivePool(undefined);
      logger.waitingForShutdown();
      for (const hook of app.hooks.shutdown) {
        try {
          await hook();
        } catch (error) {
          finished = false;
          logger.shutdownHookFailed(error as Error);
        }
      }
      logger.shutdownComplete();
      logger.finishedProcess();
      logger.flush();
      releaseStrayErrors?.();
      return finished;
    })());

  if (options.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      // A second signal while draining means "now".
      process.once(signal, () => process.exit(1));
      close(signal).then((finished) => process.exit(finished ? 0 : 1));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }

  return { url, port, host, pool, server, close };
}

function startLoopMonitor(
  app: App,
  thresholdMs: number | undefined,
  format: LogFormat,
  onBlock: (block: LoopBlock, route: string | undefined, message: string) => void,
): Promise<LoopMonitor> {
  const routes: MonitoredRoute[] = app.routes.map((route) => ({
    label: `${route.method} ${route.path}`,
    lane: route.lane,
    declaredAsync: laneOf(route.handler) === "loop",
    handler: route.handler,
    dependencies: route.plan.map((dependency) => dependency.fn),
  }));
  return LoopMonitor.start({
    thresholdMs,
    routes,
    format,
    onBlock: (block) => onBlock(block, block.routeId === undefined ? undefined : routes[block.routeId]?.label, describeBlock(block, routes)),
  });
}
