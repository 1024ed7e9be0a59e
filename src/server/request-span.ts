// The SERVER span of each request, with HTTP's semantic conventions: named by its route
// ("GET /users/:id", or the method alone when no route matched), continuing the caller's
// `traceparent`. When an HTTP instrumentation (auto-instrumentations) already made the request's
// SERVER span, that one is used: it gets the route, and no second SERVER span is made.
import type { IncomingMessage } from "node:http";
import type { Attributes, Span } from "@opentelemetry/api";
import type { Peer } from "../http/request.js";
import { requestTraceKey } from "../app/lane-span.js";
import { activeTracer, extractCarrier, otel } from "../tracing/tracer.js";

export interface RequestSpan {
  span: Span;
  /** Ours to end; false when an instrumentation made it (and ends it). */
  owned: boolean;
}

/** Starts the request's span when an SDK is registered; undefined (and nothing else done) when not. */
export function startRequestSpan(req: IncomingMessage, peer: Peer, startTime: number): RequestSpan | undefined {
  const tracer = activeTracer();
  if (tracer === undefined) return undefined;
  const { context, trace, SpanKind } = otel();
  const active = context.active();
  const instrumented = trace.getSpan(active);
  if (instrumented?.isRecording()) {
    (req as { [requestTraceKey]?: unknown })[requestTraceKey] = active;
    return { span: instrumented, owned: false };
  }
  const method = req.method ?? "GET";
  const url = req.url ?? "/";
  const query = url.indexOf("?");
  const attributes: Attributes = {
    "http.request.method": method,
    "url.path": query < 0 ? url : url.slice(0, query),
    "url.scheme": peer.scheme,
    "network.protocol.version": req.httpVersion,
    "client.address": clientAddress(peer.client),
  };
  if (query >= 0) attributes["url.query"] = url.slice(query + 1);
  const agent = req.headers["user-agent"];
  if (agent !== undefined) attributes["user_agent.original"] = agent;
  const parent = extractCarrier(req.headers);
  const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes, startTime }, parent);
  (req as { [requestTraceKey]?: unknown })[requestTraceKey] = trace.setSpan(parent, span);
  return { span, owned: true };
}

/** Ends the request's span with its route and status (5xx: an error, as the conventions say for a server). */
export function endRequestSpan({ span, owned }: RequestSpan, method: string, route: string | undefined, status: number): void {
  if (route !== undefined) {
    span.setAttribute("http.route", route);
    span.updateName(`${method} ${route}`);
  }
  if (!owned) return;
  span.setAttribute("http.response.status_code", status);
  if (status >= 500) {
    span.setStatus({ code: otel().SpanStatusCode.ERROR });
    span.setAttribute("error.type", String(status));
  }
  span.end();
}

/** "1.2.3.4:5678" → "1.2.3.4"; "[::1]:80" or "::1:80" → "::1"; "unix:" stays. */
function clientAddress(client: string): string {
  const colon = client.lastIndexOf(":");
  if (colon <= 0 || client.startsWith("unix:")) return client;
  return client.slice(0, colon).replace(/^\[|\]$/g, "");
}
