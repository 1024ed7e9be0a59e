// The worker's side of the crossing: what a pool worker runs for each task the main thread sends.
// The worker entry (src/pool) finds it on the app and calls it without knowing what it is; it
// takes the task apart as the main thread put it together (task.ts, request.ts), runs the
// handler, the dependency or the blocking function, and gives back what can cross (results.ts,
// stream.ts, errors.ts).
import { performance } from "node:perf_hooks";
import { dependencyByKey, type Dependency } from "../deps/dependency.js";
import { isStreamBody, type RouteResult } from "../http/response.js";
import type { HttpRequest } from "../http/request.js";
import { TaskKind, type TaskHost } from "../pool/protocol.js";
import { runBlocking } from "../threads/offload.js";
import { encodeError } from "./errors.js";
import { invokePooledDependency, invokeRoute, type ErrorAnswers, type InvokedRoute } from "./invoke.js";
import { receiveRequest } from "./request.js";
import { encodeResult } from "./results.js";
import { sendStream, type StreamingPayload } from "./stream.js";
import { runInContext, type TaskContext } from "./task.js";
import { attachRequestLog, type RouteName } from "../log/request-log.js";
import type { Attributes, Tracer } from "@opentelemetry/api";
import { workerSlot } from "../pool/identity.js";
import { activeTracer, inSpan, otel } from "../tracing/tracer.js";

/** A route as the host runs it: by its id, streaming its chunks back when its handler is a plain generator. */
export interface HostedRoute extends InvokedRoute {
  streamsFromWorker: boolean;
  lane: string;
}

/** What the host needs of the app a worker imported. */
export interface HostedApp {
  /** Routes by id (registration order, the same in every thread). */
  readonly routes: readonly HostedRoute[];
  /** Dependencies by id. */
  readonly dependencyTable: readonly Dependency[];
  readonly errors: ErrorAnswers;
  signature(): string[];
  /** The per-worker start: the app's dependency overrides, then its workerStart hooks. */
  start(slot: number): Promise<void>;
  /** Applies the main thread's dependency overrides when they changed since the last task; undefined when they did not. */
  overridesChanged(): Promise<void> | undefined;
}

/** A route task's payload: the request (streaming routes: with the channel their chunks go back on). */
export type RoutePayload = HttpRequest | StreamingPayload<HttpRequest>;

/** A pooled dependency's payload: the request and the values of the dependencies it needs. */
export interface DependencyPayload {
  req: HttpRequest;
  deps: Record<string, unknown>;
  /** The route the request matched, for its log lines. */
  route: RouteName | undefined;
}

/**
 * A task that came with a trace runs in a span of this worker's, under its caller's: the
 * handler's spans (and the app's own, made inside it) nest there, and its start shows how long it
 * waited for a worker.
 */
function inWorkerSpan<R>(tracer: Tracer, app: HostedApp, kind: TaskKind, target: number | string, task: () => R): R {
  const route = kind === TaskKind.Route ? app.routes[target as number] : undefined;
  const name =
    route !== undefined
      ? `worker ${route.method} ${route.path}`
      : kind === TaskKind.Dependency
        ? `dependency ${typeof target === "string" ? target : (app.dependencyTable[target]?.name ?? target)}`
        : `blocking ${target}`;
  const attributes: Attributes = { "loopwise.lane": route?.lane === "queue" ? "queue" : "worker", "loopwise.worker": workerSlot() ?? 0 };
  if (route !== undefined) attributes["http.route"] = route.path;
  return inSpan(tracer, name, otel().SpanKind.INTERNAL, attributes, task);
}

export function workerHost(app: HostedApp): TaskHost {
  const run = (kind: TaskKind, target: number | string, payload: unknown, signal: AbortSignal | undefined): unknown => {
    if (kind === TaskKind.Blocking) return runBlocking(target as string, payload as unknown[]);
    // One atomic read per task; the overrides are read again only after the main thread changed them.
    const changed = app.overridesChanged();
    if (changed) return changed.then(() => run(kind, target, payload, signal));
    if (kind === TaskKind.Dependency) {
      // A plain dependency of a loop-lane route: its value goes back to the main thread. An
      // override's replacement, which no route declared, comes by the key of where it was made.
      const dep = typeof target === "string" ? dependencyByKey(target) : app.dependencyTable[target];
      if (!dep) throw new Error(`no dependency with id ${target} in this worker`);
      const { req, deps, route } = payload as DependencyPayload;
      attachRequestLog(req, route, "worker");
      return receiveRequest(req, signal, (received) => invokePooledDependency(dep, received, deps, app.errors));
    }
    const route = app.routes[target as number];
    if (!route) throw new Error(`no route with id ${target} in this worker`);
    // A queue-lane route's plain handler runs on a worker process's pool: its lane is still the queue.
    const lane = route.lane === "queue" ? "queue" : "worker";
    if (route.streamsFromWorker) {
      const { req, channel } = payload as StreamingPayload<HttpRequest>;
      attachRequestLog(req, route, lane);
      const startedAt = performance.timeOrigin + performance.now();
      const streamed = (result: RouteResult) => (isStreamBody(result.body) ? sendStream(channel, result, result.body, signal, startedAt) : result);
      return receiveRequest(req, signal, (received) => invokeRoute(route, received, undefined, streamed));
    }
    attachRequestLog(payload as HttpRequest, route, lane);
    return receiveRequest(payload as HttpRequest, signal, (received) => invokeRoute(route, received, undefined, encodeResult));
  };
  return {
    signature: () => app.signature(),
    start: (slot) => app.start(slot),
    // The caller's context variables are set around the task (and nothing else is).
    run: (kind, target, payload, signal, context) => {
      const task = () => run(kind, target, payload, signal);
      const tracer = (context as TaskContext | undefined)?.trace === undefined ? undefined : activeTracer();
      return runInContext(context as TaskContext | undefined, tracer === undefined ? task : () => inWorkerSpan(tracer, app, kind, target, task));
    },
    // What a task throws (an offloaded function, a background task) crosses in the one form: an HttpError keeps its status.
    encodeError,
  };
}
