// `loopwise worker main.ts:app --redis URL`: a process that serves no HTTP and runs the app's
// queue-lane routes and durable jobs taken from Redis. It starts the app as a server does (the
// worker pool, the startup hooks, the loop monitor), so a route runs here as it would run there:
// plain handlers on this process's pool, async ones on its loop. SIGTERM takes no new job, lets
// the running ones finish within the grace period, then stops.
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import type { App } from "../app/app.js";
import { JobConsumer } from "../queue/consumer.js";
import { declaredJobNames } from "../queue/durable-job.js";
import { createJobRunner } from "../queue/job-runner.js";
import { redacted } from "../queue/redis-url.js";
import type { WorkerPool } from "../pool/pool.js";
import { resolveConfig, type Config, type ServeOptions } from "./config.js";
import { onShutdownSignals, settledBefore } from "./drain.js";
import { WorkerProcessLogger } from "./worker-log.js";
import { levelNumber } from "../log/levels.js";
import { stopWithin } from "./shutdown-hooks.js";
import { startApp, type StartedApp } from "./start-app.js";
import { startLoopMonitor } from "./start-monitor.js";
import { containStrayErrors } from "./stray-errors.js";

export interface WorkerProcessOptions
  extends Pick<
    ServeOptions,
    | "poolSize"
    | "maxPoolSize"
    | "workerIdleTimeout"
    | "workerMemoryMb"
    | "workerResourceLimits"
    | "workerNiceness"
    | "maxQueue"
    | "maxQueueWait"
    | "logFormat"
    | "accessLog"
    | "logWrite"
    | "gracePeriod"
    | "loopMonitor"
    | "moduleUrl"
    | "exportName"
    | "handleSignals"
    | "containStrayErrors"
  > {
  /** The Redis the servers send their jobs to. */
  redis: string;
  /** Jobs this process runs at once (default: its pool size). */
  concurrency?: number;
}

export interface RunningWorker {
  /** "host:pid", as the servers' access logs name it. */
  readonly name: string;
  readonly pool: WorkerPool;
  /** Takes no new job, lets the running ones finish within the grace period, ends the pool. Resolves true if all finished. */
  close(reason?: string): Promise<boolean>;
}

export async function runWorker(app: App, options: WorkerProcessOptions): Promise<RunningWorker> {
  const config = resolveConfig(options, app.moduleUrl);
  const redis = config.redis!;
  const concurrency = options.concurrency ?? config.poolSize;
  if (!(Number.isInteger(concurrency) && concurrency >= 1))
    throw new RangeError(`concurrency must be a whole number ≥ 1, got ${options.concurrency}`);
  const logger = new WorkerProcessLogger({
    format: config.logFormat,
    level: levelNumber(config.logLevel),
    accessLog: config.accessLog,
    write: config.logWrite,
  });
  const releaseAppLog = logger.takeAppLog();
  logger.startedWorkerProcess();
  logger.waitingForStartup();
  const started = await startWorkerApp(app, config, logger);
  logger.poolReady(started.pool.size, app.routes.length, started.pool.maxSize);
  const name = `${hostname()}:${process.pid}`;
  const consumer = await startConsumer(app, started, { redis, concurrency, name, logger });
  logger.startupComplete();
  logger.consuming(redacted(redis), concurrency, app.routes.filter((r) => r.lane === "queue").length, declaredJobNames().length);
  const releaseStrayErrors = config.containStrayErrors ? containStrayErrors(logger) : undefined;
  let closed: Promise<boolean> | undefined;
  const close = (reason = "close") =>
    (closed ??= (async () => {
      const deadline = performance.now() + config.gracePeriod;
      logger.shuttingDown(reason);
      if (consumer.size > 0) logger.waitingForJobs(consumer.size);
      let finished = await settledBefore(consumer.close(), deadline);
      if (!finished) {
        logger.jobsGraceExpired(consumer.size, config.gracePeriod);
        await consumer.close(true);
      }
      finished = (await stopWithin(started, logger, finished, deadline, config.gracePeriod)) && finished;
      logger.finishedWorkerProcess();
      logger.flush();
      releaseStrayErrors?.();
      releaseSignals?.();
      releaseAppLog();
      return finished;
    })());
  const releaseSignals = config.handleSignals
    ? onShutdownSignals((signal) => close(signal).then((finished) => process.exit(finished ? 0 : 1)))
    : undefined;
  return { name, pool: started.pool, close };
}

async function startWorkerApp(app: App, config: Config, logger: WorkerProcessLogger): Promise<StartedApp> {
  const loopMonitor = config.loopMonitor;
  try {
    return await startApp(app, config, {
      startMonitor:
        loopMonitor === false
          ? undefined
          : () => startLoopMonitor(app, loopMonitor.thresholdMs, config, (block, route, message) => logger.loopBlocked(block, route, message)),
      onWorkerExit: (event) => logger.workerExited(event),
      onRestartFailed: (event) => logger.restartFailed(event),
      onResize: (event) => logger.poolResized(event),
      onLog: (slot, record) => logger.app(record, slot),
      logLevel: logger.level,
      onQueueConnection: (state, url, detail) => logger.queueConnection(state, url, detail),
      awaitQueueAnswers: false,
    });
  } catch (error) {
    logger.startupFailed(error);
    logger.flush();
    throw error;
  }
}

interface ConsumerParts {
  redis: string;
  concurrency: number;
  name: string;
  logger: WorkerProcessLogger;
}

async function startConsumer(app: App, started: StartedApp, { redis, concurrency, name, logger }: ConsumerParts): Promise<JobConsumer> {
  const run = createJobRunner({ app, executor: started.pool, monitor: started.monitor, workerName: name, finished: (record) => logger.job(record) });
  // BullMQ repeats a connection error on every retry: the log says it once until it changes.
  let lastError: string | undefined;
  try {
    return await JobConsumer.start(
      { redisUrl: redis, concurrency, workerName: name },
      {
        run,
        stalled: (id) => logger.jobStalled(id),
        error: (message) => {
          if (message !== lastError) logger.queueError(message);
          lastError = message;
        },
      },
    );
  } catch (error) {
    logger.startupFailed(error);
    logger.flush();
    await started.stop(false);
    throw error;
  }
}
