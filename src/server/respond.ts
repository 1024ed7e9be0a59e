// Answering one request on the wire, and everything that follows an answer: the error line
// behind a 500, the access log line, the metrics, the live page's feed, the in-flight count.
import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { HandledRequest } from "../app/handle-request.js";
import { closeSource, internalErrorResult, isStreamBody, type RouteResult, type StreamBody } from "../http/response.js";
import type { LiveFeed } from "../monitor/live-feed.js";
import type { LoopMonitor, RequestTag } from "../monitor/loop-monitor.js";
import type { Metrics } from "../monitor/metrics.js";
import { serializeError } from "../pool/protocol.js";
import type { InFlight } from "./drain.js";
import { writeResponse } from "./frame-response.js";
import type { Logger } from "./logger.js";
import { writeStream } from "./stream-body.js";
import { endRequestSpan, type RequestSpan } from "./request-span.js";

export interface ResponderParts {
  logger: Logger;
  inFlight: InFlight;
  metrics?: Metrics;
  live?: LiveFeed;
  monitor?: LoopMonitor;
  /** Whether the server is closing: answers then ask the client to close the connection. */
  closing: () => boolean;
  /** Headers every response gets unless it has its own (--header). */
  headers?: readonly [string, string][];
  /** Called once the answer is out (or its client gone): starts the background tasks the handler added. */
  afterResponse?: (result: HandledRequest) => void;
}

/** One request on its way: when it started, from whom, and its monitor tag. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  start: number;
  client: string;
  tag: RequestTag | undefined;
  /** The request's SERVER span, while an OpenTelemetry SDK is registered. */
  span?: RequestSpan;
}

export function createResponder(parts: ResponderParts) {
  const { logger, inFlight, metrics, live, monitor } = parts;
  // Most servers have none: no loop at all per response then.
  const extraHeaders = parts.headers !== undefined && parts.headers.length > 0 ? parts.headers : undefined;

  // Event streams have no natural end: at shutdown they end at once (the browser reconnects to
  // another instance, with Last-Event-ID), instead of holding the grace period.
  let shuttingDown: () => void = () => {};
  const shutdown = new Promise<void>((resolve) => (shuttingDown = resolve));

  const finished = (exchange: Exchange, result?: HandledRequest) => {
    // Before the request stops counting as in flight, so a shutdown waiting for it sees its tasks.
    if (result?.background) parts.afterResponse?.(result);
    if (exchange.tag) monitor!.finished(exchange.tag);
    inFlight.end();
  };

  // With no access log, metrics or live page, an answer has nobody to report to but its span.
  const reported = logger.accessLogEnabled || metrics !== undefined || live !== undefined;
  const report = ({ req, start, client, span }: Exchange, result: HandledRequest, status: number, bytes?: number) => {
    if (!reported && !span) return;
    const durationMs = performance.now() - start;
    const route = result.route?.path;
    const method = req.method ?? "";
    if (span) endRequestSpan(span, method, route, status);
    metrics?.requestFinished({ method, route, lane: result.lane, status, durationMs, queuedMs: result.queuedMs });
    live?.publish({
      type: "request",
      id: live.idOf(req),
      method,
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
        method,
        target: req.url ?? "",
        httpVersion: req.httpVersion,
        status,
        durationMs,
        lane: result.lane,
        queuedMs: result.queuedMs,
        bytes,
        requestId: result.requestId,
      });
    }
  };

  /** The pipeline turns every error into a response; reaching here is a bug, still answered. */
  const internalError = (exchange: Exchange, error: unknown) => {
    const { req, res } = exchange;
    logger.handlerError(req.method ?? "", req.url ?? "", "loop", { ...serializeError(error), name: "InternalError" });
    if (exchange.span) endRequestSpan(exchange.span, req.method ?? "", undefined, 500);
    try {
      // Half a response cannot be finished with another: the client sees the connection drop.
      if (!res.headersSent) writeResponse(res, internalErrorResult({ name: "InternalError", message: "" }), true);
      else if (!res.writableEnded) res.destroy();
    } catch {
      res.destroy();
    }
    finished(exchange);
  };

  /** Never throws: the pipeline calls it from promise callbacks, where a throw would be an unhandled rejection. */
  const respond = (exchange: Exchange, result: HandledRequest) => {
    const { req, res } = exchange;
    if (res.destroyed || req.socket.destroyed) {
      // Nobody is there to read it: logged as nginx does, 499 "client closed request".
      if (isStreamBody(result.body)) closeSource(result.body);
      report(exchange, result, 499);
      finished(exchange, result);
      return;
    }
    if (extraHeaders) for (const [name, value] of extraHeaders) if (!(name in result.headers)) result.headers[name] = value;
    let sent: RouteResult;
    try {
      sent = writeResponse(res, result, parts.closing());
      if (sent.error) logger.handlerError(req.method ?? "", req.url ?? "", result.lane, sent.error);
    } catch (error) {
      return internalError(exchange, error);
    }
    if (isStreamBody(sent.body)) return void streamThenReport(exchange, result, sent);
    report(exchange, result, sent.status);
    finished(exchange, result);
  };

  /** The access line of a streamed response is written when it ends, with its duration and bytes. */
  const streamThenReport = async (exchange: Exchange, result: HandledRequest, sent: RouteResult) => {
    const { req, res } = exchange;
    const type = sent.headers["content-type"];
    const endless = typeof type === "string" && type.startsWith("text/event-stream");
    const outcome = await writeStream(res, sent.body as StreamBody, req.method === "HEAD", endless ? shutdown : undefined);
    if (outcome.error !== undefined) {
      logger.handlerError(req.method ?? "", req.url ?? "", result.lane, { ...serializeError(outcome.error), name: "StreamError" });
    }
    report(exchange, result, outcome.clientGone ? 499 : sent.status, outcome.bytes);
    // Background tasks follow the whole body, as they follow a whole response.
    finished(exchange, result);
  };

  return { respond, internalError, endEventStreams: () => shuttingDown() };
}
