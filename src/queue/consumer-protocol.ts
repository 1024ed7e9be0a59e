// The messages between a worker process's main thread and its consumer thread, typed in one place.
// The consumer thread holds the BullMQ Worker: it takes jobs and keeps their locks; the main
// thread runs them (async handlers on its loop, plain ones on its pool) and answers.

/** What the consumer thread is started with. */
export interface ConsumerSettings {
  redisUrl: string;
  /** Jobs this process runs at once. */
  concurrency: number;
  /** "host:pid", stored on each job as the worker that ran it. */
  workerName: string;
}

/** Consumer → main: a job to run. */
export interface JobMessage {
  type: "job";
  /** Which of the consumer's pending jobs this is. */
  seq: number;
  id: string;
  name: string;
  data: unknown;
  /** 1 for the first try. */
  attempt: number;
  attempts: number;
}

export type ConsumerMessage =
  | { type: "ready" }
  | JobMessage
  /** A job whose worker stopped renewing its lock (a process that died) went back to the queue. */
  | { type: "stalled"; id: string }
  | { type: "error"; message: string }
  | { type: "closed" };

/** Main → consumer: a job's outcome. `retry: false` fails it for good (no retry, whatever its attempts). */
export type JobReply =
  | { type: "done"; seq: number; ok: true; value: unknown }
  | { type: "done"; seq: number; ok: false; error: string; stack?: string; retry: boolean };

/** Main → consumer: take no new job, let the running ones finish, then say "closed". */
export interface CloseMessage {
  type: "close";
}
