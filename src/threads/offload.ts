import { TaskKind } from "../pool/protocol.js";
import { captureContext } from "./context-var.js";
import type { WorkerPool } from "../pool/pool.js";
import { ModuleRegistry } from "../pool/module-registry.js";
import { workerSlot } from "../pool/identity.js";

// Functions cannot cross threads, so a blocking function is known by a key from where it was
// registered, the same in every thread because every thread imports the same app module.
const registry = new ModuleRegistry<Function>("blocking");
const keys = new Map<Function, string>();
let activePool: WorkerPool | undefined;

/**
 * Registers a blocking function so that async handlers can run it on the pool with `offload`.
 * Call it at a module's top level. Called directly, the function still runs where its caller
 * runs, like any utility function.
 */
export function blocking<F extends (...args: any[]) => any>(fn: F): F {
  if (typeof fn !== "function") throw new TypeError("blocking() takes a function");
  if (!keys.has(fn)) keys.set(fn, registry.add(() => fn).key);
  return fn;
}

/**
 * Runs a function registered with `blocking()` on the worker pool and resolves with its result
 * (Starlette's `run_in_threadpool`). Arguments and result must be structured-cloneable.
 * Inside a worker it simply calls the function: the caller is already off the loop.
 */
export async function offload<F extends (...args: any[]) => any>(fn: F, ...args: Parameters<F>): Promise<Awaited<ReturnType<F>>> {
  const key = keys.get(fn);
  if (key === undefined) {
    throw new TypeError(
      `offload(${fn?.name || "anonymous function"}): the function is not registered. ` +
        "Wrap it with blocking() at the top level of a module the app imports, so every worker registers it too.",
    );
  }
  if (workerSlot() !== undefined) return await fn(...args);
  if (!activePool) throw new Error("offload(): no worker pool is running (start the app with loopwise run or app.listen())");
  const outcome = await activePool.run<Awaited<ReturnType<F>>>(TaskKind.Blocking, key, args, { context: captureContext() });
  return outcome.value;
}

/** Set by the server while it runs, so `offload()` knows which pool to use. */
export function setActivePool(pool: WorkerPool | undefined): void {
  activePool = pool;
}

/** The key a function was registered under with blocking() (or backgroundFunction()), if it was. */
export function registeredKey(fn: Function): string | undefined {
  return keys.get(fn);
}

/** The function registered under `key` in this thread. */
export function registeredFunction(key: string): Function | undefined {
  return registry.get(key);
}

export function runBlocking(key: string, args: unknown[]): unknown {
  const fn = registry.get(key);
  if (!fn) throw new Error(`no blocking function ${key} in this worker`);
  return fn(...args);
}

export function blockingSignature(): string[] {
  return registry.signature((fn) => fn.name);
}
