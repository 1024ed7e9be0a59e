import { TaskKind } from "../pool/protocol.js";
import { captureContext } from "./context-var.js";
import { cloneProblem, explainProblem } from "./clone-check.js";
import type { WorkerPool } from "../pool/pool.js";
import { ModuleRegistry } from "../pool/module-registry.js";
import { workerSlot } from "../pool/identity.js";

// Functions cannot cross threads, so a blocking function is known by a key from where it was
// registered, the same in every thread because every thread imports the same app module.
const registry = new ModuleRegistry<Function>("blocking");
const keys = new Map<Function, string>();
/** The pools of the apps running in this process, the latest started last (tests run several at once). */
const activePools: WorkerPool[] = [];

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
  // Inside a worker the caller is already off the loop; during startup nothing is served yet
  // (and the workers start only after the startup hooks), so the function runs where it is.
  const activePool = poolFor(key, fn);
  if (workerSlot() !== undefined || (!activePool && startingUp > 0)) return await fn(...args);
  if (!activePool) throw new Error("offload(): no worker pool is running (start the app with loopwise run or app.listen())");
  const problem = cloneProblem(args);
  if (problem) throw crossingError(fn, `its arguments hold ${explainProblem(problem, "the worker")}`);
  const outcome = await activePool.run<Awaited<ReturnType<F>>>(TaskKind.Blocking, key, args, { context: captureContext() });
  return outcome.value;
}

/**
 * The pool to run `fn` on: the latest started whose workers registered it. In a process serving
 * several apps (a test file with a TestClient per app) the latest pool may be another app's,
 * whose workers never imported `fn`'s module.
 */
function poolFor(key: string, fn: Function): WorkerPool | undefined {
  if (activePools.length < 2) return activePools[0];
  const line = registry.line(key, fn.name);
  return activePools.findLast((pool) => pool.registered(line)) ?? activePools.at(-1);
}

let startingUp = 0;

/** Runs the startup hooks, during which `offload()` calls its function directly. */
export async function duringStartup<T>(run: () => Promise<T>): Promise<T> {
  startingUp++;
  try {
    return await run();
  } finally {
    startingUp--;
  }
}

/**
 * Set by the server while it runs, so `offload()` knows the pools there are (see poolFor). A
 * server that stops takes out its own pool only, so another app still running in the same
 * process (a test's second TestClient) keeps its own.
 */
export function setActivePool(pool: WorkerPool): void {
  activePools.push(pool);
}

export function releaseActivePool(pool: WorkerPool): void {
  const index = activePools.lastIndexOf(pool);
  if (index >= 0) activePools.splice(index, 1);
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
  const result = fn(...args);
  return result instanceof Promise ? result.then((value) => intactResult(fn, value)) : intactResult(fn, result);
}

/** A result that would reach the caller changed (a class instance made bare) is refused here, where it is still whole. */
function intactResult(fn: Function, value: unknown): unknown {
  const problem = cloneProblem(value);
  if (problem) throw crossingError(fn, `it returned ${explainProblem(problem, "the caller")}`);
  return value;
}

function crossingError(fn: Function, what: string): TypeError {
  return new TypeError(
    `offload(${fn.name || "anonymous function"}): ${what}. Arguments and results cross threads as copies of plain data: pass and return plain values.`,
  );
}

export function blockingSignature(): string[] {
  return registry.signature((fn) => fn.name);
}
