// The settings every process that meets on the queue must agree on, each with its reason: where
// the jobs live in Redis, how long a worker's claim on a job lasts, how long finished jobs stay.
import type { ConnectionOptions, KeepJobs } from "bullmq";
import { parseRedisUrl } from "./redis-url.js";

/** Every key Loopwise keeps in Redis starts with `loopwise:jobs:` (one app per Redis database). */
export const queuePrefix = "loopwise";
export const queueName = "jobs";

/**
 * A worker's claim on a running job lasts 5 s and is renewed every 2.5 s by a thread of its own
 * whose loop runs no user code, so a handler that blocks its process's loop never loses it (the
 * classic BullMQ double run). When the process dies, the claim lapses and the job goes back to
 * the queue within about 10 s (the lock, then two stalled checks), well inside a request's
 * timeout: BullMQ's 30 s default would often come too late for a waiting HTTP client.
 */
export const lockDurationMs = 5_000;
export const stalledIntervalMs = 2_500;
/** A job whose worker died twice fails (its request gets a 500) instead of killing a third. */
export const maxStalledCount = 1;

/** A queue-lane route with no timeout of its own (nor the server's) waits this long for a worker's answer. */
export const defaultQueueTimeoutMs = 30_000;

/**
 * A route job's result stays a minute, at most 10,000 of them: the server reads it from the job
 * when the completion event was missed (BullMQ's events stream can drop or trim one). Failed
 * route jobs stay an hour, for inspection.
 */
export const routeJobRetention: { removeOnComplete: KeepJobs; removeOnFail: KeepJobs } = {
  removeOnComplete: { age: 60, count: 10_000 },
  removeOnFail: { age: 3_600, count: 1_000 },
};

/** A durable job's state is read back by its id: completed ones stay a day, failed ones a week. */
export const durableJobRetention: { removeOnComplete: KeepJobs; removeOnFail: KeepJobs } = {
  removeOnComplete: { age: 86_400, count: 10_000 },
  removeOnFail: { age: 7 * 86_400, count: 10_000 },
};

/**
 * Durable jobs carry a priority, route jobs none: BullMQ takes jobs without one first, so a
 * backlog of background work never makes a waiting HTTP request wait behind it.
 */
export const durableJobPriority = 1;

/**
 * While Redis is away, every connection tries again this often at most: BullMQ's own backoff grows
 * to 20 s, so after a long outage the queue lane stayed unusable for up to 20 s after Redis was
 * back. One attempt a second costs Redis nothing and brings the lane back within about a second.
 */
export const reconnectDelay = (attempt: number) => Math.min(100 * attempt, 1_000);

/**
 * How long requests waiting for queue-lane answers keep waiting once the connection to Redis is
 * lost: if it comes back within this, they get their answer (a job finished meanwhile included);
 * if not, 503 with Retry-After, instead of waiting for their route's whole timeout.
 */
export const outageWaitMs = 5_000;

/**
 * Connection options for BullMQ. `failFast` is for the producer side of an HTTP server: with Redis
 * down, adding a job fails at once (503) instead of waiting in ioredis's offline queue.
 */
export function connectionOptions(url: string, failFast = false): ConnectionOptions {
  return {
    ...parseRedisUrl(url),
    connectionName: `loopwise:${process.pid}`,
    retryStrategy: reconnectDelay,
    ...(failFast ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 } : {}),
  };
}
