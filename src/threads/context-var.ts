// Request context that crosses lanes: a value set on the main thread (in a dependency, around a
// call) is visible to worker-lane handlers, pooled dependencies and offload()ed functions of the
// same request. Each thread imports the app module, so each creates the same ContextVar at the
// same place: the variable is known by its registration key, and its value travels with the task
// (it must be structured-cloneable, like everything that crosses).
import { AsyncLocalStorage } from "node:async_hooks";
import { ModuleRegistry } from "../pool/module-registry.js";
import { activeTracer, extractCarrier, injectCarrier, otel } from "../tracing/tracer.js";

const registry = new ModuleRegistry<AsyncLocalStorage<unknown>>("context");
/** The same, as a list: read on every task sent, so no keys are listed per call. */
const variables: { key: string; storage: AsyncLocalStorage<unknown> }[] = [];

/**
 * A value per request, readable on both lanes (like Python's `contextvars.ContextVar`, which
 * FastAPI carries into its thread pool). Create it at a module's top level:
 *
 *     export const tenant = new ContextVar<string>();
 *     const byTenant = depends(async (req) => tenant.enter(req.headers["x-tenant"] as string));
 *     app.get("/report", { dependencies: [byTenant] }, () => ({ tenant: tenant.get() }));  // a worker sees it
 */
export class ContextVar<T> {
  readonly key: string;
  private readonly storage: AsyncLocalStorage<T>;

  constructor() {
    const { key, value } = registry.add(() => new AsyncLocalStorage<unknown>());
    this.key = key;
    this.storage = value as AsyncLocalStorage<T>;
    variables.push({ key, storage: value });
  }

  /** The value for the code running now, or undefined. */
  get(): T | undefined {
    return this.storage.getStore();
  }

  /** Runs `fn` with the value set; code it starts (awaits, timers, tasks sent to workers) sees it. */
  run<R>(value: T, fn: () => R): R {
    return this.storage.run(value, fn);
  }

  /** Sets the value for the rest of the current asynchronous flow (a dependency setting it for its request). */
  enter(value: T): T {
    this.storage.enterWith(value);
    return value;
  }
}

/**
 * The caller's context as it crosses to a worker thread or a worker process (src/lanes carries
 * it with every task): the values of its context variables, and room for its trace context (W3C
 * `traceparent`/`tracestate` as a carrier), which a tracing integration puts here and reads on the
 * other side. Structured-cloneable, so it crosses to a thread and, serialised, through Redis.
 */
export interface TaskContext {
  vars?: Record<string, unknown>;
  trace?: Record<string, string>;
}

/**
 * The caller's context now, to send with a task; undefined when there is none (the common case:
 * nothing to copy). The trace context is taken only when an OpenTelemetry SDK is registered.
 */
export function captureContext(): TaskContext | undefined {
  let vars: Record<string, unknown> | undefined;
  for (const { key, storage } of variables) {
    const value = storage.getStore();
    if (value !== undefined) (vars ??= {})[key] = value;
  }
  const trace = activeTracer() === undefined ? undefined : injectCarrier(otel().context.active());
  if (trace !== undefined) return vars === undefined ? { trace } : { vars, trace };
  return vars === undefined ? undefined : { vars };
}

/**
 * Runs `fn` inside the caller's context: each registered variable set to its value there (and
 * unset when absent), so a task sees its caller's values and nothing left over from the task before it.
 */
export function runInContext<R>(context: TaskContext | undefined, fn: () => R): R {
  const vars = context?.vars;
  const trace = context?.trace;
  // The task's spans continue its caller's trace (when this thread has an SDK to make them).
  let run = trace === undefined || activeTracer() === undefined ? fn : () => otel().context.with(extractCarrier(trace), fn);
  for (const { key, storage } of variables) {
    const inner = run;
    run = () => storage.run(vars?.[key], inner);
  }
  return run();
}

export function contextSignature(): string[] {
  return registry.signature();
}
