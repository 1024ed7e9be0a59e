// The span around a route's lane: on the server, the handler's (a child of the request's SERVER
// span); in a `loopwise worker` process, the job's (continuing the trace the job carried through
// Redis). Its attributes say which lane ran it, which worker, and how long it waited for one.
import type { Context, SpanKind, Tracer } from "@opentelemetry/api";
import type { Done, HandledRequest, RouteRunner } from "./route-runner.js";
import type { Route } from "./router.js";
import { activeTracer, otel } from "../tracing/tracer.js";

/** Where the main thread's request keeps the context of its SERVER span (set only while tracing). */
export const requestTraceKey = Symbol("loopwise.requestTrace");

/** The handler's span on the server, when the request has a traced SERVER span; else `inner` as it is. */
export function withHandlerSpan(inner: RouteRunner, route: Route): RouteRunner {
  return (data, readAt, done) => {
    const parent = (data as { [requestTraceKey]?: Context })[requestTraceKey];
    const tracer = parent === undefined ? undefined : activeTracer();
    if (tracer === undefined) return inner(data, readAt, done);
    inLaneSpan(
      tracer,
      `handler ${route.method} ${route.path}`,
      otel().SpanKind.INTERNAL,
      route,
      parent!,
      (ended) => inner(data, readAt, ended),
      done,
    );
  };
}

/** A queue-lane job in a worker process: a CONSUMER span under the trace the job carried, when it carried one. */
export function inJobSpan(route: Route, run: (done: Done) => void, done: Done): void {
  const tracer = activeTracer();
  if (tracer === undefined) return void run(done);
  const { context, trace, SpanKind } = otel();
  const parent = context.active();
  if (trace.getSpanContext(parent) === undefined) return void run(done);
  inLaneSpan(tracer, `job ${route.method} ${route.path}`, SpanKind.CONSUMER, { ...route, lane: "queue" }, parent, run, done);
}

function inLaneSpan(tracer: Tracer, name: string, kind: SpanKind, route: Route, parent: Context, run: (done: Done) => void, done: Done): void {
  const { context, trace, SpanStatusCode } = otel();
  const span = tracer.startSpan(name, { kind, attributes: { "loopwise.lane": route.lane, "http.route": route.path } }, parent);
  const ended: Done = (result: HandledRequest) => {
    const worker = /^worker#(\d+)$/.exec(result.lane)?.[1];
    if (worker !== undefined) span.setAttribute("loopwise.worker", Number(worker));
    if (result.queuedMs !== undefined) span.setAttribute("loopwise.queue.wait_ms", Math.round(result.queuedMs * 100) / 100);
    span.setAttribute("http.response.status_code", result.status);
    if (result.status >= 500) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: result.error?.message ?? `status ${result.status}` });
      span.setAttribute("error.type", result.error?.name ?? String(result.status));
    }
    span.end();
    done(result);
  };
  // Code the lane starts (the async handler, the task sent to a worker or to Redis) sees the span as active.
  context.with(trace.setSpan(parent, span), () => run(ended));
}
