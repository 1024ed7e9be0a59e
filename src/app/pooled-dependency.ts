// A plain dependency of a loop-lane route runs on the pool; its value must survive the trip back.
import type { Dependency } from "../deps/dependency.js";
import type { RunOnPool } from "../deps/resolve.js";
import { DependencyCloneError } from "../lanes/dependency-crossing.js";
import { decodeError } from "../lanes/errors.js";
import type { TaskExecutor } from "../lanes/executor.js";
import type { DependencyPayload } from "../lanes/host.js";
import { encodeRequest } from "../lanes/request.js";
import type { DependencyOutcome } from "../lanes/results.js";
import { requestTask } from "../lanes/task.js";
import { matchedRoute } from "../log/request-log.js";
import { TaskCloneError, TaskError } from "../pool/pool-errors.js";
import { TaskKind } from "../pool/protocol.js";

export { DependencyCloneError };

/** Runs plain dependencies of loop-lane routes on `executor`, by their ids in the app's dependency table. */
export function pooledDependencyRunner(dependencyIds: Map<Dependency, number>, executor: TaskExecutor): RunOnPool {
  return (dep, req, deps) =>
    executor
      .run<DependencyOutcome>(
        TaskKind.Dependency,
        targetOf(dep, dependencyIds),
        { req: encodeRequest(req), deps, route: matchedRoute(req) } satisfies DependencyPayload,
        requestTask(req),
      )
      .then(
        ({ value: outcome }) => {
          if (outcome.error) throw decodeError(outcome.error);
          return outcome.value;
        },
        (error) => {
          throw cloneError(error, dep) ?? error;
        },
      );
}

/**
 * How a worker finds the dependency: its id in the app's table, or (an override's replacement,
 * which no route declared) the key of where depends() made it.
 */
function targetOf(dep: Dependency, dependencyIds: Map<Dependency, number>): number | string {
  const target = dependencyIds.get(dep) ?? dep.key;
  if (target === undefined) throw new Error(`dependency ${dep.name} cannot run on the worker pool: a worker has no way to find it`);
  return target;
}

/** Why a pooled dependency produced no value, when it is about copying between threads. */
function cloneError(error: unknown, dep: Dependency): DependencyCloneError | undefined {
  // Refused in the worker, where the value was still what the dependency made (dependency-crossing.ts).
  if (error instanceof TaskError && error.serialized.name === "DependencyCloneError")
    return Object.assign(new DependencyCloneError(error.message), { stack: error.stack });
  const where = `dependency ${dep.name} is a plain function, so it runs on the worker pool for a loop-lane route`;
  if (error instanceof TaskError && error.serialized.name === "DataCloneError") {
    return new DependencyCloneError(
      `${where}, and its value cannot be copied back to the main thread (${error.message}). ` +
        "Return plain data, make the dependency async to run it on the loop, or make the route plain so all of it runs in one worker.",
    );
  }
  if (error instanceof TaskCloneError) {
    return new DependencyCloneError(
      `${where}, and the request or the values of the dependencies it needs could not be copied to the worker (${error.message}). ` +
        "Make the dependency async to run it on the loop, or make the route plain so all of it runs in one worker.",
    );
  }
  return undefined;
}
