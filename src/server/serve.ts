// serve(): the uvicorn part of Loopwise. Config → app start (pool, hooks, handler) → HTTP server
// → graceful close. Responding lives in respond.ts, draining and signals in drain.ts.
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { App } from "../app/app.js";
import { internalErrorResult } from "../http/response.js";
import { LiveFeed } from "../monitor/live-feed.js";
import type { LoopBlock, RequestTag } from "../monitor/loop-monitor.js";
import { Metrics } from "../monitor/metrics.js";
import type { WorkerPool } from "../pool/pool.js";
import { serializeError } from "../pool/protocol.js";
import { resolveConfig, type Config, type ServeOptions } from "./config.js";
import { InFlight, onShutdownSignals } from "./drain.js";
import { writeResponse } from "./frame-response.js";
import { Logger } from "./logger.js";
import { createResponder } from "./respond.js";
import { startApp, type StartedApp } from "./start-app.js";
import { startLoopMonitor } from "./start-monitor.js";
import { registerQueueMetrics } from "../queue/queue-metrics.js";
import { redacted } from "../queue/redis-url.js";
import { containStrayErrors } from "./stray-errors.js";

export type { ServeOptions } from "./config.js";

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
  const config = resolveConfig(options, app.moduleUrl);
  const logger = new Logger({ format: config.logFormat, accessLog: config.accessLog, write: config.logWrite });
  logger.startedProcess();
  logger.waitingForStartup();
  // Filled in once the pool runs; the pool's and the monitor's reports reach them from then on.
  const reports: Reports = {};
  const started = await startReported(app, config, logger, reports);
  const { pool, monitor } = started;
  logger.poolReady(pool.size, app.routes.length, pool.maxSize);
  if (started.queue) logger.queueReady(redacted(started.queue.url), queueRoutes(app).length);
  const metrics = config.metrics ? new Metrics(pool) : undefined;
  if (metrics && started.queue) registerQueueMetrics(started.queue, metrics.registry);
  const live = config.dev ? new LiveFeed(pool) : undefined;
  Object.assign(reports, { metrics, live });

  let closing = false;
  const inFlight = new InFlight();
  const { respond, internalError } = createResponder({ logger, inFlight, metrics, live, monitor, closing: () => closing });
  const dispatch = (tag: RequestTag | undefined, req: IncomingMessage, res: ServerResponse) => {
    const start = performance.now();
    live?.started(req, performance.timeOrigin + start);
    const exchange = { req, res, start, client: `${req.socket.remoteAddress}:${req.socket.remotePort}`, tag };
    inFlight.begin();
    started.handle(
      req,
      exchange.client,
      (result) => respond(exchange, result),
      (error) => internalError(exchange, error),
    );
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if ((metrics || live) && servedInternally(req, res, logger, metrics, live)) return;
    if (monitor) monitor.run(dispatch, req, res);
    else dispatch(undefined, req, res);
  };
  const server = createHttpServer(config, onRequest);
  try {
    await listen(server, config);
  } catch (error) {
    // The port is taken, or the host is wrong: nothing may keep running behind the error.
    logger.startupFailed(error as Error);
    logger.flush();
    await started.stop(false);
    throw error;
  }
  const url = announce(server, config, logger, metrics, live);
  const releaseStrayErrors = config.containStrayErrors ? containStrayErrors(logger) : undefined;
  const close = graceful(
    { server, logger, inFlight, started, live, gracePeriod: config.gracePeriod },
    () => {
      closing = true;
    },
    () => {
      releaseStrayErrors?.();
      releaseSignals?.();
    },
  );
  const releaseSignals = config.handleSignals
    ? onShutdownSignals((signal) => close(signal).then((finished) => process.exit(finished ? 0 : 1)))
    : undefined;

  return { url, port: (server.address() as AddressInfo).port, host: config.host, pool, server, close };
}

/** The startup lines, once listening; returns the server's URL. */
function announce(server: Server, config: Config, logger: Logger, metrics: Metrics | undefined, live: LiveFeed | undefined): string {
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  logger.startupComplete();
  if (metrics) logger.endpoint("metrics", "Prometheus metrics", `${url}/metrics`);
  if (live) logger.endpoint("live-page", "Live lanes page (dev)", `${url}/_loopwise`);
  logger.listening(url);
  return url;
}

interface ClosingParts {
  server: Server;
  logger: Logger;
  inFlight: InFlight;
  started: StartedApp;
  live: LiveFeed | undefined;
  gracePeriod: number;
}

/**
 * The close sequence, run once however often it is asked for: stop accepting, let in-flight
 * requests finish on both lanes within the grace period, end the pool, run the shutdown hooks.
 * Resolves true if everything finished in time and every hook succeeded.
 */
function graceful(parts: ClosingParts, begin: () => void, end: () => void): (reason?: string) => Promise<boolean> {
  const { server, logger, inFlight, started, live, gracePeriod } = parts;
  let closed: Promise<boolean> | undefined;
  const run = async (reason: string) => {
    begin();
    logger.shuttingDown(reason);
    live?.close();
    server.close();
    server.closeIdleConnections();
    if (inFlight.size > 0) logger.waitingForRequests(inFlight.size);
    let finished = await inFlight.drained(gracePeriod);
    if (!finished) logger.graceExpired(inFlight.size, gracePeriod);
    server.closeAllConnections();
    logger.waitingForShutdown();
    const hookFailures = await started.stop(finished);
    for (const failure of hookFailures) logger.shutdownHookFailed(failure);
    finished &&= hookFailures.length === 0;
    logger.shutdownComplete();
    logger.finishedProcess();
    logger.flush();
    end();
    return finished;
  };
  return (reason = "close") => (closed ??= run(reason));
}

interface Reports {
  metrics?: Metrics;
  live?: LiveFeed;
}

/** Starts the app with its pool's and loop monitor's events logged (and counted, once metrics run). */
async function startReported(app: App, config: Config, logger: Logger, reports: Reports): Promise<StartedApp> {
  const onBlock = (block: LoopBlock, route: string | undefined, message: string) => {
    logger.loopBlocked(block, route, message);
    reports.metrics?.loopBlocked(route ?? `(${block.culprit})`, block.durationMs);
    reports.live?.publish({ type: "block", start: block.start, durationMs: block.durationMs, route: route ?? null, culprit: block.culprit, message });
  };
  const loopMonitor = config.loopMonitor;
  try {
    const routes = queueRoutes(app);
    if (routes.length > 0 && config.redis === undefined) {
      throw new Error(
        `${routes.map((r) => `${r.method} ${r.path}`).join(", ")} run${routes.length === 1 ? "s" : ""} on the queue lane: ` +
          "start the server with --redis URL (the `redis` option) and run `loopwise worker` processes with the same URL",
      );
    }
    return await startApp(app, config, {
      onQueueConnection: (state, url, detail) => logger.queueConnection(state, url, detail),
      startMonitor: loopMonitor === false ? undefined : () => startLoopMonitor(app, loopMonitor.thresholdMs, config, onBlock),
      onWorkerExit: (event) => {
        logger.workerExited(event);
        if (event.replaced) reports.metrics?.workerReplaced(event.reason);
      },
      onRestartFailed: (event) => logger.restartFailed(event),
      onResize: (event) => logger.poolResized(event),
    });
  } catch (error) {
    logger.startupFailed(error as Error);
    logger.flush();
    throw error;
  }
}

const queueRoutes = (app: App) => app.routes.filter((route) => route.lane === "queue");

function createHttpServer(config: Config, onRequest: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer(
    {
      keepAliveTimeout: config.keepAliveTimeout,
      headersTimeout: config.headersTimeout,
      requestTimeout: config.requestTimeout,
      // How often Node checks the two timeouts above; its default of 30 s would let them overrun.
      connectionsCheckingInterval: Math.min(1000, config.headersTimeout),
    },
    onRequest,
  );
  // `Expect: 100-continue`: a body declared over the limit is refused (413, from the pipeline)
  // before the client sends it; Node's default would invite it first.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (!(Number(req.headers["content-length"]) > config.bodyLimit)) res.writeContinue();
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
  return server;
}

function listen(server: Server, config: Config): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: config.port, host: config.host, backlog: config.backlog }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Loopwise's own pages, answered before the app's routes when turned on. */
function servedInternally(req: IncomingMessage, res: ServerResponse, logger: Logger, metrics?: Metrics, live?: LiveFeed): boolean {
  if (metrics && req.url === "/metrics") {
    metrics.render().then(
      (text) => {
        res.writeHead(200, { "content-type": metrics.contentType });
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
}
