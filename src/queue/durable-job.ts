// Durable background jobs: work a handler hands to the queue instead of running it in its own
// process. The job lives in Redis, so it outlives a restart of the server that queued it; some
// `loopwise worker` process runs it once (again only after a failure, as its retries allow), and
// anyone can read its state back by its id. Declared at a module's top level, like `blocking()`,
// so every process and thread that imports the app knows it by its name.
//
// This module is imported by every thread that imports the package: BullMQ loads on first use only.
import { laneOf, type Lane } from "../threads/lane.js";
import { blocking } from "../threads/offload.js";
import type { DurableJobData } from "./job-codec.js";
import { durableJobPriority, durableJobRetention } from "./queue-settings.js";

export interface DurableJobOptions {
  /** Tries in all, the first included: a job whose function throws is tried again until then (default 3). */
  attempts?: number;
  /**
   * The wait before each retry: a number of ms (the same each time), or `{ type: "exponential",
   * delay }` (delay, then twice, four times, ...). Default: exponential from 1000 ms.
   */
  backoff?: number | { type: "fixed" | "exponential"; delay: number };
}

export interface EnqueueOptions {
  /** Run no sooner than this many ms from now. */
  delay?: number;
  /** Your own id for the job (not all digits, no ":"): queuing again with an id still known adds nothing, so a retried request queues one job. */
  id?: string;
}

/** Where a job is: waiting (or delayed) for a worker, running, or done. */
export type DurableJobStatus = "waiting" | "delayed" | "active" | "completed" | "failed";

export interface DurableJobState<R = unknown> {
  id: string;
  name: string;
  status: DurableJobStatus;
  /** Tries made so far. */
  attempts: number;
  /** What the function returned (JSON), once completed. */
  result?: R;
  /** The last error's message, once a try failed. */
  error?: string;
  /** ISO times. */
  queuedAt: string;
  finishedAt?: string;
}

interface Declared {
  name: string;
  fn: (input: any) => unknown;
  /** The lane rule, on the worker process that runs it: async on its loop, plain on its pool. */
  lane: Lane;
}

const declared = new Map<string, Declared>();

/** The names of the jobs declared in this thread. */
export function declaredJobNames(): string[] {
  return [...declared.keys()];
}

/** The job declared under `name` in this thread (a worker process looks its jobs up here). */
export function declaredJob(name: string): Declared | undefined {
  return declared.get(name);
}

/**
 * Declares a durable job at a module's top level; its handle queues runs of it and reads their state:
 *
 *     export const thumbnail = durableJob("thumbnail", (input: { photo: string }) => resize(input.photo), { attempts: 5 });
 *     app.post("/photos/:id/thumbnail", async (req) => json({ job: await thumbnail.enqueue({ photo: req.params.id }) }, { status: 202 }));
 *     app.get("/jobs/:id", async (req) => (await thumbnail.state(req.params.id)) ?? new HttpError(404));
 *
 * Input and result are JSON. The function runs on a `loopwise worker` process, by the lane rule there.
 */
export function durableJob<I, R>(name: string, fn: (input: I) => R, options: DurableJobOptions = {}): DurableJob<I, Awaited<R>> {
  if (typeof name !== "string" || name.trim() === "" || name.length > 200)
    throw new TypeError(`a durable job needs a name of 1 to 200 characters, got ${JSON.stringify(name)}`);
  if (typeof fn !== "function") throw new TypeError(`durable job "${name}": the job is not a function`);
  if (declared.has(name)) throw new TypeError(`a durable job named "${name}" is declared twice; names must be unique`);
  const lane = laneOf(fn);
  // A plain function runs on the worker process's pool, which finds it by its registration key.
  if (lane === "worker") blocking(fn);
  declared.set(name, { name, fn, lane });
  return new DurableJob<I, Awaited<R>>(name, jobOptions(name, options));
}

export class DurableJob<I, R> {
  /** @internal made by durableJob() */
  constructor(
    readonly name: string,
    private readonly options: { attempts: number; backoff: { type: "fixed" | "exponential"; delay: number } },
  ) {}

  /** Queues a run with `input` (JSON); resolves with the job's id once Redis holds it. */
  async enqueue(input: I, options: EnqueueOptions = {}): Promise<string> {
    const data: DurableJobData = { kind: "durable", input: asJson(input, `durable job "${this.name}": the input`) };
    const delay = options.delay ?? 0;
    if (!(Number.isFinite(delay) && delay >= 0))
      throw new RangeError(`durable job "${this.name}": delay must be a number of ms ≥ 0, got ${options.delay}`);
    if (options.id !== undefined) checkId(options.id, this.name);
    const queue = await clientQueue();
    const job = await queue.add(this.name, data, {
      ...this.options,
      ...durableJobRetention,
      priority: durableJobPriority,
      delay,
      jobId: options.id,
    });
    return job.id!;
  }

  /** The state of a run of this job, or undefined when Redis holds no such job (never queued, or expired from its retention). */
  async state(id: string): Promise<DurableJobState<R> | undefined> {
    if (typeof id !== "string" || id === "") return undefined;
    const { Job } = await import("bullmq");
    const queue = await clientQueue();
    // The state first, then the job: read the other way round, a job finishing in between reads
    // as completed with no result yet.
    const status = statusOf(await queue.getJobState(id));
    const job = await Job.fromId(queue, id);
    if (!job || job.name !== this.name || (job.data as DurableJobData | undefined)?.kind !== "durable") return undefined;
    const state: DurableJobState<R> = {
      id,
      name: job.name,
      status,
      attempts: job.attemptsMade,
      queuedAt: new Date(job.timestamp).toISOString(),
    };
    if (job.finishedOn !== undefined && state.status === "completed") state.result = job.returnvalue as R;
    if (job.failedReason) state.error = job.failedReason;
    if (job.finishedOn !== undefined) state.finishedAt = new Date(job.finishedOn).toISOString();
    return state;
  }
}

async function clientQueue() {
  const { jobQueue } = await import("./job-client.js");
  return jobQueue();
}

function jobOptions(name: string, options: DurableJobOptions) {
  const attempts = options.attempts ?? 3;
  if (!(Number.isInteger(attempts) && attempts >= 1))
    throw new RangeError(`durable job "${name}": attempts must be a whole number ≥ 1, got ${options.attempts}`);
  const given = options.backoff ?? { type: "exponential" as const, delay: 1000 };
  const backoff = typeof given === "number" ? { type: "fixed" as const, delay: given } : given;
  if (backoff.type !== "fixed" && backoff.type !== "exponential") {
    throw new TypeError(`durable job "${name}": backoff type must be "fixed" or "exponential", got ${JSON.stringify(backoff.type)}`);
  }
  if (!(Number.isFinite(backoff.delay) && backoff.delay >= 0))
    throw new RangeError(`durable job "${name}": backoff delay must be ms ≥ 0, got ${backoff.delay}`);
  return { attempts, backoff: { type: backoff.type, delay: backoff.delay } };
}

function checkId(id: string, name: string): void {
  if (typeof id !== "string" || id === "" || id.length > 200 || id.includes(":") || /^\d+$/.test(id)) {
    throw new TypeError(`durable job "${name}": an id must be 1 to 200 characters, not all digits, without ":", got ${JSON.stringify(id)}`);
  }
}

/** The value as JSON carries it (what the worker will get), or a TypeError naming what cannot be carried. */
export function asJson(value: unknown, what: string): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`${what} cannot be stored as JSON: ${(error as Error).message}`);
  }
  return text === undefined ? null : JSON.parse(text);
}

function statusOf(state: string): DurableJobStatus {
  if (state === "completed" || state === "failed" || state === "active" || state === "delayed") return state;
  return "waiting"; // waiting, prioritized, waiting-children
}
