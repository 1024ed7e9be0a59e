// `loopwise/queue`: durable background jobs and the `loopwise worker` process, on BullMQ and
// ioredis (optional peer dependencies: `npm i bullmq ioredis`). Queue-lane routes need nothing
// from here: `lane: "queue"` is a route option.
import type { App } from "./app/app.js";
import type { RunningWorker, WorkerProcessOptions } from "./server/worker-process.js";
export { durableJob, type DurableJobOptions, type DurableJobState, type DurableJobStatus, type EnqueueOptions } from "./queue/durable-job.js";
export type { WorkerProcessOptions, RunningWorker } from "./server/worker-process.js";

/**
 * Runs the app's queue-lane routes and durable jobs, taken from Redis (what `loopwise worker` does):
 * plain handlers on this process's pool, async ones on its loop. No HTTP. The process's machinery
 * loads on first call, so a pool worker importing this module for durableJob() does not pay for it.
 */
export async function runWorker(app: App, options: WorkerProcessOptions): Promise<RunningWorker> {
  const worker = await import("./server/worker-process.js");
  return worker.runWorker(app, options);
}
