// Starting and stopping an app's machinery, the same for serve() and the TestClient: the worker
// pool (each worker imports the app and checks its routes), the startup hooks, the pool that
// offload() uses, and the request handler with every route's runner composed.
import type { App } from "../app/app.js";
import { createRequestHandler, type RequestHandler } from "../app/handle-request.js";
import type { LoopMonitor } from "../monitor/loop-monitor.js";
import { builtinRoutes } from "../openapi/docs-routes.js";
import { workerSlot } from "../pool/identity.js";
import { WorkerPool, type PoolOptions } from "../pool/pool.js";
import { setActivePool } from "../threads/offload.js";
import { sharedBuffers } from "../threads/shared-state.js";
import { overridesBufferKey } from "../deps/override-channel.js";
import type { Config } from "./config.js";

export interface StartedApp {
  pool: WorkerPool;
  monitor: LoopMonitor | undefined;
  handle: RequestHandler;
  /**
   * Ends the pool (letting its tasks finish when `drained`, else terminating them) and runs the
   * shutdown hooks; resolves with the hooks' errors.
   */
  stop(drained: boolean): Promise<Error[]>;
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
>;

export interface StartEvents extends Pick<PoolOptions, "onWorkerExit" | "onRestartFailed" | "onResize"> {
  /** Starts the loop monitor once the pool runs (its watchdog thread alone would not keep the process alive). */
  startMonitor?: () => Promise<LoopMonitor>;
}

export async function startApp(app: App, config: StartConfig, events: StartEvents = {}): Promise<StartedApp> {
  if (workerSlot() !== undefined) {
    // The module that starts the server or client is the app's own module, which every worker imports.
    throw new Error(
      "a server or TestClient was started inside a pool worker: the module that defines the app starts it at its top level, " +
        "and every worker imports that module. Keep the app in a module of its own and start it from another one (or use app.listen(), which stands aside in workers).",
    );
  }
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
    // The app's dependency overrides reach its workers through memory of its own, set now or later.
    sharedBuffers: () => ({ ...sharedBuffers(), [overridesBufferKey]: app.overridesBuffer }),
    onWorkerExit: events.onWorkerExit,
    onRestartFailed: events.onRestartFailed,
    onResize: events.onResize,
  });
  await pool.start();
  try {
    for (const hook of app.hooks.startup) await hook();
  } catch (error) {
    await pool.terminate();
    throw error;
  }
  let monitor: LoopMonitor | undefined;
  try {
    monitor = await events.startMonitor?.();
  } catch (error) {
    await pool.terminate();
    throw error;
  }
  setActivePool(pool);
  const handle = createRequestHandler(app, pool, {
    bodyLimit: config.bodyLimit,
    jsonDepthLimit: config.jsonDepthLimit,
    timeout: config.timeout,
    monitor,
    builtins: builtinRoutes(app.routes, app.docsOptions, app.errors, config.rootPath),
    rootPath: config.rootPath,
  });
  const stop = async (drained: boolean) => {
    monitor?.close();
    if (drained) await pool.close();
    else await pool.terminate();
    setActivePool(undefined);
    const failures: Error[] = [];
    for (const hook of app.hooks.shutdown) {
      try {
        await hook();
      } catch (error) {
        failures.push(error as Error);
      }
    }
    return failures;
  };
  return { pool, monitor, handle, stop };
}
