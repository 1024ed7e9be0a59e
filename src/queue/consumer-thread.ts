// The consumer thread of a `loopwise worker` process: the BullMQ Worker lives here, on a thread
// whose event loop runs no user code. It takes jobs, hands each to the main thread and renews
// their locks while they run; so a handler that blocks the main thread's loop for a minute does
// not lose its job to the stalled check (and run twice), while a process that dies takes this
// thread with it and its jobs go back to the queue when their locks lapse.
import { parentPort, workerData } from "node:worker_threads";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import type { CloseMessage, ConsumerMessage, ConsumerSettings, JobReply } from "./consumer-protocol.js";
import { connectionOptions, lockDurationMs, maxStalledCount, queueName, queuePrefix, stalledIntervalMs } from "./queue-settings.js";

const settings = workerData as ConsumerSettings;
const port = parentPort!;
const post = (message: ConsumerMessage) => port.postMessage(message);
const running = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
let seq = 0;

const worker = new Worker(queueName, (job: Job) => run(job), {
  prefix: queuePrefix,
  connection: connectionOptions(settings.redisUrl),
  name: settings.workerName,
  concurrency: settings.concurrency,
  lockDuration: lockDurationMs,
  stalledInterval: stalledIntervalMs,
  maxStalledCount,
});

function run(job: Job): Promise<unknown> {
  const id = ++seq;
  return new Promise((resolve, reject) => {
    running.set(id, { resolve, reject });
    post({ type: "job", seq: id, id: job.id!, name: job.name, data: job.data, attempt: job.attemptsMade + 1, attempts: job.opts.attempts ?? 1 });
  });
}

worker.on("error", (error) => post({ type: "error", message: error.message || error.name }));
worker.on("stalled", (id) => post({ type: "stalled", id }));

port.on("message", (message: JobReply | CloseMessage) => {
  if (message.type === "close") {
    worker.close().then(
      () => post({ type: "closed" }),
      () => post({ type: "closed" }),
    );
    return;
  }
  const waiting = running.get(message.seq);
  if (!waiting) return;
  running.delete(message.seq);
  if (message.ok) return waiting.resolve(message.value);
  const error = message.retry ? new Error(message.error) : new UnrecoverableError(message.error);
  if (message.stack) error.stack = message.stack;
  waiting.reject(error);
});

worker.waitUntilReady().then(
  () => post({ type: "ready" }),
  (error: Error) => post({ type: "error", message: error.message }),
);
