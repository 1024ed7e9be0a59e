// What a worker process does with each job its consumer hands it. A route job runs its route as
// the server would run a local one, by the lane rule here (async on this process's loop, plain on
// its pool, dependencies beside the handler), within what is left of the route's time limit; the
// response goes back as data. A durable job runs its declared function the same way.
import { performance } from "node:perf_hooks";
import type { App } from "../app/app.js";
import { pooledDependencyRunner } from "../app/pooled-dependency.js";
import { composeRunner, type HandledRequest, type RouteRunner } from "../app/route-runner.js";
import { handlerLane, type Route } from "../app/router.js";
import type { HttpRequest } from "../http/request.js";
import { encodeError } from "../lanes/errors.js";
import type { TaskExecutor } from "../lanes/executor.js";
import { expiredReason } from "../lanes/queue-errors.js";
import { receiveRequest } from "../lanes/request.js";
import { runInContext } from "../lanes/task.js";
import { attachRequestLog, matchedRouteKey } from "../log/request-log.js";
import { inJobSpan } from "../app/lane-span.js";
import type { LoopMonitor } from "../monitor/loop-monitor.js";
import { offload } from "../threads/offload.js";
import type { JobOutcome } from "./consumer.js";
import type { JobMessage } from "./consumer-protocol.js";
import { asJson, declaredJob } from "./durable-job.js";
import {
  decodeJobRequest,
  encodeJobResult,
  type CarriedRequest,
  type DurableJobData,
  type JobData,
  type RemoteResult,
  type RouteJobData,
} from "./job-codec.js";

/** One job done, as the worker process's log records it. */
export interface JobRecord {
  id: string;
  /** "GET /render" for a route job, the job's name for a durable one. */
  name: string;
  /** A route job's request target ("/render?n=3"). */
  target?: string;
  /** A route job's response status. */
  status?: number;
  /** "completed"; "failed" for good; "retrying" when BullMQ will try it again; "skipped" when it came too late. */
  outcome: "completed" | "failed" | "retrying" | "skipped";
  durationMs: number;
  lane: string;
  queuedMs: number | undefined;
  attempt: number;
  attempts: number;
  error?: { name: string; message: string; stack?: string };
}

export interface JobRunnerParts {
  app: App;
  /** This process's worker pool. */
  executor: TaskExecutor;
  monitor?: LoopMonitor;
  /** "host:pid", sent back with each answer for the server's access log. */
  workerName: string;
  /** Told of each job done (the log line). */
  finished?: (record: JobRecord) => void;
}

/** Runs one job and says how it went; never rejects. */
export function createJobRunner(parts: JobRunnerParts): (job: JobMessage) => Promise<JobOutcome> {
  const routes = new Map(parts.app.routes.filter((route) => route.lane === "queue").map((route) => [`${route.method} ${route.path}`, route]));
  const runners = new Map<string, RouteRunner>();
  const context = { executor: parts.executor, runOnPool: pooledDependencyRunner(parts.app.dependencyIds, parts.executor), defaultTimeout: undefined };
  /** Each route's runner for the limit the server gave it, composed once, on the lane its handler takes here. */
  const runnerFor = (route: Route, timeoutMs: number) => {
    const key = `${route.id} ${timeoutMs}`;
    let runner = runners.get(key);
    if (!runner) runners.set(key, (runner = composeRunner({ ...route, lane: handlerLane(route), timeout: timeoutMs }, context)));
    return runner;
  };
  return (job) => {
    const data = job.data as JobData | undefined;
    if (data?.kind === "route") return runRouteJob(job, data, routes.get(data.route), runnerFor, parts);
    if (data?.kind === "durable") return runDurableJob(job, data, parts);
    return Promise.resolve(refused(job, "", `job ${job.id} (${job.name}) is not a Loopwise job`, parts));
  };
}

function runRouteJob(
  job: JobMessage,
  data: RouteJobData,
  route: Route | undefined,
  runnerFor: (route: Route, timeoutMs: number) => RouteRunner,
  parts: JobRunnerParts,
): Promise<JobOutcome> {
  if (!route) {
    const why = `this worker's app has no queue-lane route ${data.route}: deploy the same app to the server and its workers`;
    return Promise.resolve(refused(job, data.route, why, parts));
  }
  const remaining = data.deadline - Date.now();
  if (remaining <= 0) return Promise.resolve(refused(job, data.route, expiredReason, parts, "skipped"));
  let carried: CarriedRequest;
  try {
    carried = decodeJobRequest(data.request);
  } catch (error) {
    return Promise.resolve(refused(job, data.route, `the request cannot be read: ${(error as Error).message}`, parts));
  }
  (carried.request as { [matchedRouteKey]?: Route })[matchedRouteKey] = route;
  attachRequestLog(carried.request, route, "queue");
  const startedAt = performance.now();
  // Counted as the server counts: what is left of the limit is what the runner gets.
  const readAt = startedAt - (data.timeoutMs - remaining);
  const runner = runnerFor(route, data.timeoutMs);
  const run = (request: HttpRequest) =>
    new Promise<JobOutcome>((resolve) => {
      const done = (handled: HandledRequest) => {
        const runMs = performance.now() - startedAt;
        const result: RemoteResult = {
          status: handled.status,
          headers: handled.headers,
          body: handled.body,
          error: handled.error,
          lane: handled.lane,
          worker: parts.workerName,
          runMs,
          poolWaitMs: handled.queuedMs,
        };
        parts.finished?.({
          ...record(job, data.route, "completed", runMs, handled.lane, handled.queuedMs),
          target: request.url,
          status: handled.status,
          error: handled.error,
        });
        resolve({ ok: true, value: encodeJobResult(result) });
      };
      const monitor = parts.monitor;
      // In the trace the request carried through Redis, a span of its own for the job.
      const runJob = (finished: typeof done) => inJobSpan(route, (ended) => runner(request, readAt, ended), finished);
      if (!monitor) return runInContext(carried.context, () => runJob(done));
      // Tagged as a request is on the server, so a block of this loop names the route.
      monitor.run(
        (tag) => {
          monitor.routed(route.id);
          runInContext(carried.context, () =>
            runJob((handled) => {
              monitor.finished(tag);
              done(handled);
            }),
          );
        },
        undefined,
        undefined,
      );
    });
  // The handler may stop at the deadline: after it, nobody waits for its answer.
  const signal = AbortSignal.timeout(Math.ceil(remaining));
  return Promise.resolve(receiveRequest(carried.request, signal, run)).catch((error: unknown) =>
    refused(job, data.route, `the request cannot be read: ${encodeError(error).message}`, parts),
  );
}

async function runDurableJob(job: JobMessage, data: DurableJobData, parts: JobRunnerParts): Promise<JobOutcome> {
  const declared = declaredJob(job.name);
  if (!declared)
    return refused(
      job,
      job.name,
      `this worker's app declares no durable job "${job.name}": deploy the same app to the server and its workers`,
      parts,
    );
  const startedAt = performance.now();
  try {
    const value = declared.lane === "loop" ? await declared.fn(data.input) : await offload(declared.fn, data.input);
    const result = asJson(value, `durable job "${job.name}": the result`);
    parts.finished?.(record(job, job.name, "completed", performance.now() - startedAt, declared.lane));
    return { ok: true, value: result };
  } catch (thrown) {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    const outcome = job.attempt < job.attempts ? "retrying" : "failed";
    parts.finished?.({ ...record(job, job.name, outcome, performance.now() - startedAt, declared.lane), error: encodeError(error) });
    return { ok: false, error, retry: true };
  }
}

/** A job this worker will not run: it fails for good (no retry), with the reason in its failedReason. */
function refused(job: JobMessage, name: string, why: string, parts: JobRunnerParts, outcome: "failed" | "skipped" = "failed"): JobOutcome {
  parts.finished?.({ ...record(job, name || job.name, outcome, 0, "-"), error: { name: "JobRefused", message: why } });
  return { ok: false, error: new Error(why), retry: false };
}

function record(job: JobMessage, name: string, outcome: JobRecord["outcome"], durationMs: number, lane: string, queuedMs?: number): JobRecord {
  return { id: job.id, name, outcome, durationMs, lane, queuedMs, attempt: job.attempt, attempts: job.attempts };
}
