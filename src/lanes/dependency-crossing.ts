// A plain dependency of a loop-lane route runs on the worker pool, and its value is copied back
// to the event loop. A value that would arrive changed (a connection turned into a bare object)
// is refused in the worker, where it is still what the dependency returned, with the two fixes.
import type { Dependency } from "../deps/dependency.js";
import { cloneProblem, explainProblem } from "../threads/clone-check.js";

/** A plain dependency of a loop-lane route returned what cannot cross threads (a function, a connection, ...). */
export class DependencyCloneError extends Error {
  override readonly name = "DependencyCloneError";
}

/** Returns `value` if it crosses to the main thread intact; throws a DependencyCloneError naming `dep` otherwise. */
export function crossingDependencyValue<T>(dep: Dependency, value: T): T {
  const problem = cloneProblem(value);
  if (!problem) return value;
  throw new DependencyCloneError(
    `dependency ${dep.name} returned ${explainProblem(problem, "the async route")}. ` +
      `${dep.name} is a plain function, so for a loop-lane (async) route it runs on the worker pool and its value is copied to the event loop. ` +
      `Either make the route a plain function (or lane: "worker"), so the dependency and the handler share one worker and the value never crosses, ` +
      `or make ${dep.name} async, so it runs on the event loop (a per-worker resource such as a connection then needs one of its own there).`,
  );
}
