// Starting and stopping an app's machinery, the same for serve() and the TestClient: the startup
// hooks first (FastAPI's order), then the worker pool (each worker imports the app and checks its
// routes), the pool that offload() uses, and the request handler with every route's runner composed.
import type { App } from "../app/app.js";
import { createRequestHandler, type RequestHandler } from "../app/handle-request.js";
import type { LoopMonitor } from "../monitor/loop-monitor.js";
import { appBuiltinRoutes } from "../openapi/docs-routes.js";
import { workerSlot } from "../pool/identity.js";
import { WorkerPool, type PoolOptions } from "../pool/pool.js";
import { duringStartup, releaseActivePool, setActivePool } from "../threads/offload.js";
import { runLifespanHooks } from "../app/lifespan-hooks.js";
import { sharedBuffers } from "../threads/shared-state.js";
import { overridesBufferKey } from "../deps/override-channel.js";
import { checkQueuePackages } from "../queue/queue-packages.js";
import type { ConnectionReport, QueueLane } from "../queue/queue-lane.js";
import { queueRunner } from "../queue/queue-runner.js";
import { redisUrlBuffers } from "../queue/thread-settings.js";
import type { Config } from "./config.js";
import { settledBefore } from "./drain.js";
import { runShutdownHooks, type HooksReport } from "./shutdown-hooks.js";

export interface StartedApp {
  pool: WorkerPool;
  /** The queue lane, when started with Redis: queue-lane routes and durable jobs go there. */
  queue: QueueLane | undefined;
  monitor: LoopMonitor | undefined;
  handle: RequestHandler;
  /**
   * Ends the pool (letting its tasks finish when `drained`, else terminating them) and runs the
   * shutdown hooks, all by `deadline` (a `performance.now()` time; none by default); resolves
   * with the hooks' errors and the hook the deadline cut short, if any.
   */
  stop(drained: boolean, deadline?: number): Promise<HooksReport>;
}

export type StartConfig = Pick<
  Config,
  | "moduleUrl"
  | "exportName"
  | "poolSize"
  | "maxPoolSize"
  | "workerIdleTimeout"
  | "maxQueue"
  | "maxQueueWait"
  | "workerNiceness"
  | "workerResourceLimits"
  | "bodyLimit"
  | "jsonDepthLimit"
  | "timeout"
  | "rootPath"
  | "redis"
>;

export interface StartEvents extends Pick<PoolOptions, "onWorkerExit" | "onRestartFailed" | "onResize" | "onLog" | "logLevel"> {
  /** Starts the loop monitor once the pool runs (its watchdog thread alone would not keep the process alive). */
  startMonitor?: () => Promise<LoopMonitor>;
  /** Told when Redis goes away and comes back. */
  onQueueConnection?: ConnectionReport;
  /** False in a worker process: it adds durable jobs but awaits no route job's answer (default true). */
  awaitQueueAnswers?: boolean;
}

export async function startApp(app: App, config: StartConfig, events: StartEvents = {}): Promise<StartedApp> {
  if (workerSlot() !== undefined) {
    // The module that starts the server or client is the app's own module, which every worker imports.
    throw new Error(
      "a server or TestClient was started inside a pool worker: the module that defines the app starts it at its top level, " +
        "and every worker imports that module. Keep the app in a module of its own and start it from another one (or use app.listen(), which stands aside in workers).",
    );
  }
  // Redis first: an unreachable one (or BullMQ not installed) fails the start before any worker is spent on it.
  checkQueuePackages(app, config.redis);
  const queue = config.redis === undefined ? undefined : await startQueue(config, events);
  const pool = new WorkerPool({
    size: config.poolSize,
    maxSize: config.maxPoolSize,
    idleTimeoutMs: config.workerIdleTimeout,
    maxQueueWaitMs: config.maxQueueWait,
    moduleUrl: config.moduleUrl,
    exportName: config.exportName,
    appIndex: app.appIndex,
    signature: app.signature(),
    niceness: config.workerNiceness,
    maxQueue: config.maxQueue,
    resourceLimits: config.workerResourceLimits,
    // The app's dependency overrides reach its workers through memory of its own, set now or later;
    // the Redis URL goes with the shared memory, so worker threads add durable jobs themselves.
    sharedBuffers: () => ({ ...sharedBuffers(), [overridesBufferKey]: app.overridesBuffer, ...redisUrlBuffers(config.redis) }),
    onWorkerExit: events.onWorkerExit,
    onRestartFailed: events.onRestartFailed,
    onResize: events.onResize,
    onLog: events.onLog,
    logLevel: events.logLevel,
  });
  let monitor: LoopMonitor | undefined;
  try {
    // FastAPI's order: the app's startup first, so every worker's onWorkerStart finds what it made.
    await duringStartup(() => runLifespanHooks("onStartup", app.hooks.startup, undefined));
    await pool.start();
    monitor = await events.startMonitor?.();
  } catch (error) {
    await pool.terminate();
    await queue?.close();
    throw error;
  }
  setActivePool(pool);
  const handle = createRequestHandler(app, pool, {
    bodyLimit: config.bodyLimit,
    jsonDepthLimit: config.jsonDepthLimit,
    timeout: config.timeout,
    monitor,
    builtins: appBuiltinRoutes(app, config.rootPath),
    rootPath: config.rootPath,
    queue: queue === undefined ? undefined : queueRunner(queue),
  });
  const stop = async (drained: boolean, deadline = Number.POSITIVE_INFINITY) => {
    monitor?.close();
    // Tasks still queued or running in the pool (an offload() from a timer, say) get until the deadline.
    if (!drained || !(await settledBefore(pool.close(), deadline))) await pool.terminate();
    releaseActivePool(pool);
    const report = await runShutdownHooks(app.hooks.shutdown, deadline);
    // Last: the requests have drained (none waits for an answer), and a hook may still add a durable job.
    await queue?.close();
    return report;
  };
  return { pool, queue, monitor, handle, stop };
}

/** BullMQ is an optional peer: its modules load only here, once the app has a queue. */
async function startQueue(config: StartConfig, events: StartEvents): Promise<QueueLane> {
  const { QueueLane } = await import("../queue/queue-lane.js");
  return QueueLane.start(config.redis!, {
    awaitAnswers: events.awaitQueueAnswers ?? true,
    report: events.onQueueConnection,
    // The same memory cap as the worker lane's queue, for requests waiting for a worker process.
    maxWaiting: config.maxQueue,
  });
}
