// Runs a route's dependency plan for one request and, later, their cleanups. The same code runs
// inside a worker (a worker-lane route resolves everything there) and on the main thread (a
// loop-lane route, which sends its plain dependencies to the pool through `runOnPool`).
import type { HttpRequest } from "../http/request.js";
import type { Dependency, DependencyMap, PlanStep } from "./dependency.js";

type Cleanup = Generator<unknown, unknown, unknown> | AsyncGenerator<unknown, unknown, unknown>;

export interface ResolvedDependencies {
  values: Map<Dependency, unknown>;
  /** Generators paused at their `yield`, in order of setup. */
  cleanups: Cleanup[];
}

/** Runs a plain dependency on the pool and resolves with its (cloned) value. */
export type RunOnPool = (dep: Dependency, req: HttpRequest, deps: Record<string, unknown>) => Promise<unknown>;

export function valuesFor(deps: DependencyMap, values: Map<Dependency, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name in deps) out[name] = values.get(deps[name]!);
  return out;
}

/**
 * Resolves each step of the plan once; on failure the ones already set up are cleaned up first.
 * A step's value is known by its declared dependency, whichever ran (an override's replacement).
 */
export async function resolveDependencies(steps: PlanStep[], req: HttpRequest, runOnPool?: RunOnPool): Promise<ResolvedDependencies> {
  const resolved: ResolvedDependencies = { values: new Map(), cleanups: [] };
  for (const { slot, run: dep } of steps) {
    const deps = valuesFor(dep.deps, resolved.values);
    try {
      let value: unknown;
      if (runOnPool && dep.lane === "worker") {
        value = await runOnPool(dep, req, deps);
      } else if (dep.hasCleanup) {
        const generator = dep.fn(req, deps) as Cleanup;
        const first = await generator.next();
        if (first.done) throw new Error(`dependency ${dep.name} finished without yielding its value`);
        resolved.cleanups.push(generator);
        value = first.value;
      } else {
        value = await dep.fn(req, deps);
      }
      resolved.values.set(slot, value);
    } catch (error) {
      throw (await cleanUp(resolved.cleanups, { error }))!.error;
    }
  }
  return resolved;
}

/**
 * Resumes each generator after its `yield`, last set up first. With a failure, its error is
 * thrown in at the `yield` (so `try/catch/finally` around it works, as in FastAPI); an error a
 * cleanup raises replaces it. Resolves with the failure that should answer the request, if any
 * (a box, so that even `throw undefined` stays a failure).
 */
export async function cleanUp(cleanups: Cleanup[], failure?: { error: unknown }): Promise<{ error: unknown } | undefined> {
  for (let i = cleanups.length - 1; i >= 0; i--) {
    try {
      if (failure) await cleanups[i]!.throw(failure.error);
      else await cleanups[i]!.next();
    } catch (raised) {
      failure = { error: raised };
    }
  }
  return failure;
}
