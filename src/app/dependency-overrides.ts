// What an app does with its dependency overrides: checks each route's plan with them, works out
// what its workers need to apply the same (OverrideSpec), and, in a worker, turns that spec back
// into replacements of its own.
import { backgroundTasks } from "../deps/background-tasks.js";
import { dependencyByKey, moduleOfKey, type Dependency, type PlanStep } from "../deps/dependency.js";
import type { OverrideSpec } from "../deps/override-channel.js";
import { fixedValueDependency, fixedValueOf, isTestOrEntryModule } from "../deps/overrides.js";
import { importBesideApp } from "../pool/module-loader.js";
import type { Route, RouteDefinition } from "./router.js";

type RouteShape = Pick<RouteDefinition, "method" | "path" | "lane">;

/** The dependencies a route declares: its effects and its named ones. */
export function rootsOf(route: Pick<RouteDefinition, "effects" | "deps">): Dependency[] {
  return [...route.effects, ...Object.values(route.deps)];
}

/** Refuses a plan a route cannot run: what a loop-lane route would send to the pool must not need to stay on the loop. */
export function checkSteps(route: RouteShape, steps: PlanStep[]): void {
  if (route.lane !== "loop") return;
  for (const { run: dep } of steps) {
    if (dep.lane !== "worker") continue;
    if (dep.hasCleanup) {
      throw new TypeError(
        `${route.method} ${route.path}: dependency ${dep.name} is a plain generator (it cleans up) but the route runs on the loop, ` +
          "so it would run on the pool and its cleanup could not follow its value; make it an async generator, or make the route plain",
      );
    }
    if (Object.values(dep.deps).includes(backgroundTasks)) {
      throw new TypeError(
        `${route.method} ${route.path}: dependency ${dep.name} is a plain function that adds background tasks, but the route runs on the loop, ` +
          "so it would run on the pool, away from the request's tasks; make it async, or make the route plain",
      );
    }
  }
}

/**
 * What the workers need to apply `overrides` as the main thread does. Only what a worker runs
 * counts: the overrides of dependencies of worker-lane routes, and the modules that define
 * replacements a worker runs, which the app module does not import. Throws when a worker would
 * have to import the test file (or the process's entry script) to find one.
 */
export function overrideSpec(
  routes: readonly Route[],
  stepsOf: readonly PlanStep[][],
  overrides: ReadonlyMap<Dependency, Dependency>,
  declared: ReadonlyMap<Dependency, number>,
): OverrideSpec {
  const usedInWorkers = new Set<Dependency>();
  const runInWorkers = new Map<Dependency, RouteShape>();
  routes.forEach((route, i) => {
    for (const { slot, run } of stepsOf[i]!) {
      if (route.lane === "worker") usedInWorkers.add(slot);
      if (route.lane === "worker" || run.lane === "worker") runInWorkers.set(run, route);
    }
  });
  const entries: OverrideSpec["entries"] = [];
  for (const [target, replacement] of overrides) {
    if (!usedInWorkers.has(target)) continue;
    const fixed = fixedValueOf(replacement);
    if (target.key === undefined || (fixed === undefined && replacement.key === undefined)) {
      throw new TypeError(`dependencyOverrides: ${target.name} is used by worker-lane routes, and a worker has no way to find it or its replacement`);
    }
    if (fixed) assertCopyable(target, fixed.value);
    entries.push({ target: target.key, replacement: fixed ? { value: fixed.value } : { key: replacement.key! } });
  }
  const modules = new Set<string>();
  for (const [dep, route] of runInWorkers) {
    if (declared.has(dep) || fixedValueOf(dep) || dep.key === undefined) continue;
    const url = moduleOfKey(dep.key);
    if (isTestOrEntryModule(url)) {
      throw new TypeError(
        `dependencyOverrides: ${route.method} ${route.path} runs ${dep.name} in a worker, which would have to import ${url} to find it: ` +
          "that is the test file itself (or the process's entry script), and importing it in a worker would run it there. " +
          "Make the replacement with depends() in a module of its own and import it, or override with { value } if a fixed value will do.",
      );
    }
    modules.add(url);
  }
  return { entries, modules: [...modules] };
}

function assertCopyable(target: Dependency, value: unknown): void {
  try {
    structuredClone(value);
  } catch (error) {
    throw new TypeError(
      `dependencyOverrides: the { value } that replaces ${target.name} is used by worker-lane routes, so it is copied to the workers, ` +
        `and it cannot be copied to the workers (${(error as Error).message}). Replace it with a dependency made with depends() in a module of its own instead.`,
    );
  }
}

/** In a worker: imports what the spec names and finds each replacement in this thread. */
export async function adoptSpec(spec: OverrideSpec): Promise<Map<Dependency, Dependency>> {
  for (const url of spec.modules) await importBesideApp(url);
  const overrides = new Map<Dependency, Dependency>();
  for (const { target, replacement } of spec.entries) {
    const original = dependencyByKey(target);
    // Not made in this worker: nothing here uses it.
    if (!original) continue;
    const run = "key" in replacement ? dependencyByKey(replacement.key) : fixedValueDependency(original, replacement.value);
    if (!run)
      throw new Error(`the replacement of dependency ${original.name} (${(replacement as { key: string }).key}) was not found in this worker`);
    overrides.set(original, run);
  }
  return overrides;
}
