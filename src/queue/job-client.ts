// The queue durable jobs are added to and read from, in whichever thread asks. The main thread of
// a server or worker process uses its queue lane's connection; a pool worker thread opens its own
// on first use, to the Redis the main thread was started with (handed over with the shared memory).
import { Queue } from "bullmq";
import { workerSlot } from "../pool/identity.js";
import type { JobData } from "./job-codec.js";
import { connectionOptions, queueName, queuePrefix } from "./queue-settings.js";
import { inheritedRedisUrl } from "./thread-settings.js";

let mainQueue: Queue | undefined;
let threadQueue: Queue | undefined;

/** Set by the queue lane while it runs (undefined when it closes; `ifCurrent` guards against closing another's). */
export function setJobQueue(queue: Queue | undefined, ifCurrent?: Queue): void {
  if (ifCurrent !== undefined && mainQueue !== ifCurrent) return;
  mainQueue = queue;
}

export class NoQueueError extends Error {
  override readonly name = "NoQueueError";
}

/** The queue for this thread, or a NoQueueError that says how to get one. */
export function jobQueue(): Queue {
  if (workerSlot() === undefined) {
    if (mainQueue) return mainQueue;
  } else {
    const url = inheritedRedisUrl();
    if (url !== undefined) {
      threadQueue ??= new Queue<JobData>(queueName, { prefix: queuePrefix, connection: connectionOptions(url, true) }) as Queue;
      return threadQueue;
    }
  }
  throw new NoQueueError("durable jobs need Redis: start the server (and the workers) with --redis URL");
}
