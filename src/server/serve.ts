// serve(): the uvicorn part of Loopwise. Config → app start (pool, hooks, handler) → HTTP server
// → graceful close. Responding lives in respond.ts, draining and signals in drain.ts.
import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { App } from "../app/app.js";
import type { Peer, Scheme } from "../http/request.js";
import { internalErrorResult, statusResult } from "../http/response.js";
import { LiveFeed } from "../monitor/live-feed.js";
import type { LoopBlock, RequestTag } from "../monitor/loop-monitor.js";
import type { Metrics } from "../monitor/metrics.js";
import type { WorkerPool } from "../pool/pool.js";
import { serializeError } from "../pool/protocol.js";
import { resolveConfig, type Config, type ServeOptions } from "./config.js";
import { BackgroundWork } from "./background-work.js";
import { InFlight, onShutdownSignals } from "./drain.js";
import { writeResponse } from "./frame-response.js";
import { Logger } from "./logger.js";
import { startRequestSpan } from "./request-span.js";
import { serveProbe } from "./probes.js";
import { handled, type HandledRequest } from "../app/route-runner.js";
import { levelNumber } from "../log/levels.js";
import { forwardedPeer, socketPeer, TrustedProxies } from "./proxy-headers.js";
import { createResponder } from "./respond.js";
import { stopWithin } from "./shutdown-hooks.js";
import { startApp, type StartedApp } from "./start-app.js";
import { startLoopMonitor } from "./start-monitor.js";
import { checkQueuePackages } from "../queue/queue-packages.js";
import { redacted } from "../queue/redis-url.js";
import { containStrayErrors } from "./stray-errors.js";
import { isClusterChild } from "./cluster.js";
import { addressOf, createTransport, listenOn, loadTls, schemeOf, stopListeningFirst, type Server } from "./transport.js";

export type { ServeOptions } from "./config.js";

export interface RunningServer {
  /** `http://host:port`, `https://host:port`, or `unix:PATH` on a Unix socket. */
  readonly url: string;
  /** 0 on a Unix socket. */
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
  const logger = new Logger({ format: config.logFormat, level: levelNumber(config.logLevel), accessLog: config.accessLog, write: config.logWrite });
  const releaseAppLog = logger.takeAppLog();
  logger.startedProcess();
  logger.waitingForStartup();
  // Filled in once the pool runs; the pool's and the monitor's reports reach them from then on.
  const reports: Reports = { queueConnected: true };
  let tls: ReturnType<typeof loadTls>;
  let started: StartedApp;
  try {
    tls = loadReported(config, logger);
    started = await startReported(app, config, logger, reports);
  } catch (error) {
    releaseAppLog();
    throw error;
  }
  const peerOf = peerFinder(config, schemeOf(tls));
  const { pool, monitor } = started;
  logger.poolReady(pool.size, app.routes.length, pool.maxSize);
  if (started.queue) logger.queueReady(redacted(started.queue.url), queueRoutes(app).length);
  const background = new BackgroundWork(pool, (route, outcome) => {
    const [method, path] = [route?.method ?? "", route?.path ?? ""];
    if (outcome.refused) logger.backgroundTaskRefused(method, path, outcome.task, outcome.error!.message);
    else if (outcome.error) logger.backgroundTaskFailed(method, path, outcome.task, outcome.lane, outcome.error);
    metrics?.backgroundTaskFinished({ ...outcome, route: route?.path, outcome: outcome.refused ? "refused" : outcome.error ? "error" : "ok" });
  });
  const metrics = config.metrics ? await startMetrics(pool, background, started.queue) : undefined;
  const live = config.dev ? new LiveFeed(pool) : undefined;
  Object.assign(reports, { metrics, live });

  let closing = false;
  const inFlight = new InFlight();
  const { respond, internalError, endEventStreams } = createResponder({
    logger,
    inFlight,
    metrics,
    live,
    monitor,
    closing: () => closing,
    headers: config.headers,
    afterResponse: (result) => background.start(result),
  });
  const { limitConcurrency } = config;
  // uvicorn's --limit-concurrency: past the limit (requests and WebSocket sessions in flight), refused at once, before any work is spent.
  const overloaded = limitConcurrency === undefined ? undefined : () => (inFlight.size >= limitConcurrency ? tooBusy(limitConcurrency) : undefined);
  const countRequest = requestLimit(config, logger, options.onRequestLimit ?? (() => void close("limit-max-requests")));
  const dispatch = (tag: RequestTag | undefined, req: IncomingMessage, res: ServerResponse) => {
    const start = performance.now();
    live?.started(req, performance.timeOrigin + start);
    const peer = peerOf(req);
    const span = startRequestSpan(req, peer, performance.timeOrigin + start);
    const exchange = { req, res, start, client: peer.client, tag, span };
    countRequest?.();
    const busy = overloaded?.();
    inFlight.begin();
    if (busy) return respond(exchange, busy);
    started.handle(
      req,
      peer,
      (result) => respond(exchange, result),
      (error) => internalError(exchange, error),
    );
  };
  const probes = config.probes;
  const probeState = { pool, closing: () => closing, queueConnected: () => (started.queue ? reports.queueConnected : undefined) };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (probes && serveProbe(req, res, probes, probeState)) return;
    if ((metrics || live) && servedInternally(req, res, logger, metrics, live)) return;
    if (monitor) monitor.run(dispatch, req, res);
    else dispatch(undefined, req, res);
  };
  const server = createTransport(config, tls, onRequest);
  // ws is loaded only for an app with WebSocket routes: about 10 MB of an idle server's memory otherwise.
  const websockets =
    app.websocketRoutes.length === 0
      ? undefined
      : (await import("./websocket-upgrade.js")).installWebSocketUpgrade(server, app, {
          executor: pool,
          peerOf,
          rootPath: config.rootPath,
          logger,
          metrics,
          live,
          monitor,
          inFlight,
          onRequest,
          closing: () => closing,
          overloaded,
          pingInterval: config.websocketPingInterval,
          maxMessageSize: config.websocketMaxMessageSize,
        });
  try {
    await listenOn(server, config);
  } catch (error) {
    // The port is taken, or the host is wrong: nothing may keep running behind the error.
    logger.startupFailed(error);
    logger.flush();
    await started.stop(false);
    releaseAppLog();
    throw error;
  }
  const { url, port } = addressOf(server, config, schemeOf(tls));
  announce(url, logger, metrics, live);
  const releaseStrayErrors = config.containStrayErrors ? containStrayErrors(logger) : undefined;
  const close = graceful(
    { server, logger, inFlight, background, started, live, gracePeriod: config.gracePeriod },
    () => {
      closing = true;
      endEventStreams();
      websockets?.shutdown(config.gracePeriod);
    },
    () => {
      releaseStrayErrors?.();
      releaseSignals?.();
      releaseAppLog();
    },
  );
  const releaseSignals = config.handleSignals
    ? onShutdownSignals((signal) => close(signal).then((finished) => process.exit(finished ? 0 : 1)))
    : undefined;

  return { url, port, host: config.host, pool, server, close };
}

/** Prometheus metrics, asked for: prom-client is loaded then only (about 10 MB of memory and 50 ms of CPU). */
async function startMetrics(pool: WorkerPool, background: BackgroundWork, queue: StartedApp["queue"]): Promise<Metrics> {
  const [{ Metrics }, { registerQueueMetrics }] = await Promise.all([import("../monitor/metrics.js"), import("../queue/queue-metrics.js")]);
  const metrics = new Metrics(pool, background);
  if (queue) registerQueueMetrics(queue, metrics.registry);
  return metrics;
}

/** The startup lines, once listening. */
function announce(url: string, logger: Logger, metrics: Metrics | undefined, live: LiveFeed | undefined): void {
  logger.startupComplete();
  if (metrics) logger.endpoint("metrics", "Prometheus metrics", `${url}/metrics`);
  if (live) logger.endpoint("live-page", "Live lanes page (dev)", `${url}/_loopwise`);
  logger.listening(url);
}

/** The TLS key and certificate, checked before the pool starts: a bad file fails fast. */
function loadReported(config: Config, logger: Logger): ReturnType<typeof loadTls> {
  try {
    return loadTls(config);
  } catch (error) {
    logger.startupFailed(error);
    logger.flush();
    throw error;
  }
}

/** Who each request comes from: the connection's peer, or with proxyHeaders the client a trusted proxy names. */
function peerFinder(config: Config, scheme: Scheme): (req: IncomingMessage) => Peer {
  if (!config.proxyHeaders) return (req) => socketPeer(req, scheme);
  const trusted = TrustedProxies.parse(config.forwardedAllowIps);
  return (req) => forwardedPeer(req, scheme, trusted);
}

interface ClosingParts {
  server: Server;
  logger: Logger;
  inFlight: InFlight;
  background: BackgroundWork;
  started: StartedApp;
  live: LiveFeed | undefined;
  gracePeriod: number;
}

/**
 * The close sequence, run once however often it is asked for: stop accepting, let in-flight
 * requests finish on both lanes, then the background tasks, end the pool, run the shutdown hooks:
 * all within the grace period. Resolves true if everything finished in time and every hook succeeded.
 */
function graceful(parts: ClosingParts, begin: () => void, end: () => void): (reason?: string) => Promise<boolean> {
  const { server, logger, inFlight, background, started, live, gracePeriod } = parts;
  let closed: Promise<boolean> | undefined;
  const run = async (reason: string) => {
    begin();
    const deadline = performance.now() + gracePeriod;
    logger.shuttingDown(reason);
    live?.close();
    if (isClusterChild()) await stopListeningFirst(server);
    // Cuts the connections with no request in progress, and ends Node's timeout checks.
    server.close();
    server.closeIdleConnections();
    if (inFlight.size > 0) logger.waitingForRequests(inFlight.size);
    let finished = await inFlight.drained(gracePeriod);
    if (!finished) logger.graceExpired(inFlight.size, gracePeriod);
    // Tasks after the responses: in the same grace period, before the pool they may use ends.
    finished &&= await backgroundDrained(background, logger, deadline - performance.now(), gracePeriod);
    server.closeAllConnections();
    finished = (await stopWithin(started, logger, finished, deadline, gracePeriod)) && finished;
    logger.finishedProcess();
    logger.flush();
    end();
    return finished;
  };
  return (reason = "close") => (closed ??= run(reason));
}

/** Waits up to `leftMs` for the background tasks; false (and a log line) if some are still not finished. */
async function backgroundDrained(background: BackgroundWork, logger: Logger, leftMs: number, gracePeriod: number): Promise<boolean> {
  if (background.size === 0) return true;
  logger.waitingForBackgroundTasks(background.size);
  const done = await background.drained(Math.max(0, leftMs));
  if (!done) logger.backgroundTasksLeft(background.unfinished(), gracePeriod);
  return done;
}

interface Reports {
  metrics?: Metrics;
  live?: LiveFeed;
  /** Whether the queue lane reaches Redis now (for readiness). */
  queueConnected: boolean;
}

/** The answer past --limit-concurrency: a 503 the client may retry in a second. */
function tooBusy(limit: number): HandledRequest {
  return handled(
    statusResult(503, `Service Unavailable: more than ${limit} requests in flight`, { "retry-after": "1" }),
    undefined,
    "loop",
    undefined,
  );
}

/**
 * --limit-max-requests: counts requests and, past the limit plus up to 10% (so processes started
 * together do not all restart together), says so and calls `reached` once.
 */
function requestLimit(config: Config, logger: Logger, reached: () => void): (() => void) | undefined {
  const limit = config.limitMaxRequests;
  if (limit === undefined) return undefined;
  const jittered = limit + Math.floor(Math.random() * (Math.floor(limit / 10) + 1));
  let served = 0;
  return () => {
    if (++served !== jittered) return;
    logger.requestLimitReached(jittered);
    reached();
  };
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
    // Missing packages first: --redis alone would not help.
    checkQueuePackages(app, config.redis);
    if (routes.length > 0 && config.redis === undefined) {
      throw new Error(
        `${routes.map((r) => `${r.method} ${r.path}`).join(", ")} run${routes.length === 1 ? "s" : ""} on the queue lane: ` +
          "start the server with --redis URL (the `redis` option) and run `loopwise worker` processes with the same URL",
      );
    }
    return await startApp(app, config, {
      onQueueConnection: (state, url, detail) => {
        reports.queueConnected = state === "restored";
        logger.queueConnection(state, url, detail);
      },
      startMonitor: loopMonitor === false ? undefined : () => startLoopMonitor(app, loopMonitor.thresholdMs, config, onBlock),
      onWorkerExit: (event) => {
        logger.workerExited(event);
        if (event.replaced) reports.metrics?.workerReplaced(event.reason);
      },
      onRestartFailed: (event) => logger.restartFailed(event),
      onResize: (event) => logger.poolResized(event),
      onLog: (slot, record) => logger.app(record, slot),
      logLevel: logger.level,
    });
  } catch (error) {
    logger.startupFailed(error);
    logger.flush();
    throw error;
  }
}

const queueRoutes = (app: App) => app.routes.filter((route) => route.lane === "queue");

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
