// OpenTelemetry through its API alone: Loopwise makes spans only when the app's process has an SDK
// registered (NodeSDK started by `node --import`, or auto-instrumentations' register); without one,
// each request pays a look in the API's global registry and nothing else. The SDK is the user's; the
// API finds it through its global registry, whichever copy of the API each side loaded.
import { createRequire } from "node:module";
import type { Attributes, Context, Span, SpanKind, Tracer } from "@opentelemetry/api";

type OpenTelemetryApi = typeof import("@opentelemetry/api");

// Where the API (every copy of major version 1) keeps what an SDK registers: looking there costs
// nothing, while loading the API costs a thread some 44 files, a third of what importing
// Loopwise costs a pool worker. So the API is loaded only once an SDK has registered a provider.
const globalRegistry = Symbol.for("opentelemetry.js.api.1");
const requireApi = createRequire(import.meta.url);
let api: OpenTelemetryApi | undefined;

/** The OpenTelemetry API, loaded on first use: only once `activeTracer()` has found an SDK. */
export function otel(): OpenTelemetryApi {
  api ??= requireApi("@opentelemetry/api") as OpenTelemetryApi;
  return api;
}

/** What the API's global provider has when an SDK registered one (the API's own ProxyTracerProvider). */
interface DelegatingProvider {
  getDelegateTracer?(name: string, version?: string): Tracer | undefined;
}

let found: Tracer | undefined;
/** The registered provider threw when asked for a tracer: this thread makes no spans, rather than fail requests. */
let broken = false;

/** Loopwise's tracer when an SDK is registered in this thread, else undefined (and no span is made). */
export function activeTracer(): Tracer | undefined {
  if (found !== undefined || broken) return found;
  if ((globalThis as { [globalRegistry]?: { trace?: unknown } })[globalRegistry]?.trace === undefined) return undefined;
  try {
    const provider = otel().trace.getTracerProvider() as DelegatingProvider;
    found = provider.getDelegateTracer?.("loopwise");
  } catch {
    broken = true;
  }
  return found;
}

/** The trace context of `ctx` as W3C headers (traceparent, tracestate), through the SDK's propagator; undefined when there is none. */
export function injectCarrier(ctx: Context): Record<string, string> | undefined {
  const { trace, propagation } = otel();
  if (trace.getSpanContext(ctx) === undefined) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent === undefined ? undefined : carrier;
}

/** The context a carrier (a task's, a request's headers) continues. */
export function extractCarrier(carrier: Record<string, string | string[] | undefined>): Context {
  const { propagation, ROOT_CONTEXT } = otel();
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/**
 * Runs `fn` in a span of its own under the active context, ending it when `fn` returns or its
 * promise settles; an error thrown or rejected marks the span and is passed on untouched.
 */
export function inSpan<R>(tracer: Tracer, name: string, kind: SpanKind, attributes: Attributes, fn: () => R): R {
  const { context, trace } = otel();
  const span = tracer.startSpan(name, { kind, attributes });
  const failed = (error: unknown) => {
    markFailed(span, error);
    span.end();
  };
  let result: R;
  try {
    result = context.with(trace.setSpan(context.active(), span), fn);
  } catch (error) {
    failed(error);
    throw error;
  }
  if (result instanceof Promise) {
    result.then(
      () => span.end(),
      (error: unknown) => failed(error),
    );
  } else span.end();
  return result;
}

/** The span's status as ERROR, with the error's type and message, as the semantic conventions say. */
export function markFailed(span: Span, error: unknown): void {
  const name = error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? error.message : String(error);
  span.setStatus({ code: otel().SpanStatusCode.ERROR, message });
  span.setAttribute("error.type", name);
}
