// The server's side of the queue lane: it puts a route's request on the queue as a job and awaits
// the answer a `loopwise worker` process sends back. Answers arrive through BullMQ's events
// stream, which can miss one (a reconnect, a trimmed stream), so the stream is never the only
// word: a request waiting long has its job read back, and at its deadline the job's own state
// decides (answered after all, or removed so that it never runs late). When the connection to
// Redis is lost, the requests waiting get a bounded wait (outageWaitMs): Redis back within it, their
// jobs are read back at once (an answer that came meanwhile is delivered); not back, 503.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Job, Queue, QueueEvents } from "bullmq";
import type { CancelSignal } from "../pool/pool-options.js";
import { decodeJobResult, type JobData, type RemoteResult, type RouteJobData } from "./job-codec.js";
import { setJobQueue } from "./job-client.js";
import {
  DeadlineError,
  IdempotencyConflictError,
  IdempotencyMismatchError,
  JobCancelledError,
  QueueClosedError,
  QueueFullError,
  QueueUnavailableError,
  RemoteJobError,
} from "../lanes/queue-errors.js";
import { idempotencyKeyTtlMs, idempotentJobId } from "./idempotency.js";
import { connectionOptions, outageWaitMs, queueName, queuePrefix, routeJobRetention } from "./queue-settings.js";
import { closeWithin, connected, type Connecting, SilenceWatch } from "./redis-connection.js";
import { redacted } from "./redis-url.js";

/** Told when Redis goes away (once per outage) and when it answers again. */
export type ConnectionReport = (state: "lost" | "restored", url: string, detail: string) => void;

export interface QueueLaneOptions {
  /** Await route jobs' answers (an HTTP server); a worker process only adds durable jobs. */
  awaitAnswers?: boolean;
  report?: ConnectionReport;
  /** Requests of this server that may wait for a worker process to take their job, a memory cap; more get 503 (default 1024). */
  maxWaiting?: number;
  /** How long start() waits for Redis to answer before giving up, ms (a refused connection fails at once). */
  connectTimeoutMs?: number;
}

/** A route job as the runner hands it over. */
export interface RouteJob extends Omit<RouteJobData, "kind"> {
  /** The client left: a job no worker took yet is removed and never runs. */
  signal?: CancelSignal;
  /** The request's Idempotency-Key: it runs at most once, a retry gets its stored answer (or 409 while it runs). */
  idempotencyKey?: string;
}

/** What the runner gets back: the worker's answer, and how long the whole trip took here. */
export interface RemoteOutcome extends RemoteResult {
  totalMs: number;
}

/** A request waiting for its job's answer. */
interface Waiting {
  id: string;
  route: string;
  enqueuedAt: number;
  /** A worker took the job (its "active" event came). */
  started: boolean;
  /** Redis stored the job (and it is not being removed): a job then missing from Redis was lost with its data. */
  added: boolean;
  /** When its job was last read back, performance.now(). */
  checkedAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: CancelSignal | undefined;
  onAbort: (() => void) | undefined;
  resolve: (outcome: RemoteOutcome) => void;
  reject: (error: Error) => void;
}

/** A request whose answer has not come this long is read back from its job, and again as often. */
const sweepEveryMs = 1_000;

export class QueueLane {
  private readonly pending = new Map<string, Waiting>();
  /** Job ids are this process's tag and a count: known before the job is added, so no answer can come before its listener. */
  private readonly tag = randomBytes(4).toString("hex");
  private seq = 0;
  /** Requests whose job no worker has taken yet. */
  private unstarted = 0;
  private closed = false;
  private lost = false;
  /** Ends the wait of every request once the connection has been lost for outageWaitMs. */
  private outageTimer: ReturnType<typeof setTimeout> | undefined;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private readonly silence = new SilenceWatch(
    () => this.queue.backend.client.then((client) => client.runCommand("ping", [])),
    (error) => this.connectionLost(error),
    () => this.connectionOk(),
  );
  /** Told of each answered route job (metrics). */
  onAnswered: ((route: string, waitMs: number, runMs: number) => void) | undefined;

  private constructor(
    readonly url: string,
    readonly queue: Queue,
    private readonly events: QueueEvents | undefined,
    private readonly report: ConnectionReport | undefined,
    private readonly maxWaiting: number,
  ) {}

  /** Connects to Redis (the producer connection, and the events stream when awaiting answers); fails if Redis does not answer. */
  static async start(url: string, options: QueueLaneOptions = {}): Promise<QueueLane> {
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const queue = new Queue<JobData>(queueName, { prefix: queuePrefix, connection: connectionOptions(url, true) }) as Queue;
    let events: QueueEvents | undefined;
    try {
      await connected(queue as Connecting, timeoutMs);
      // Only once Redis answered: BullMQ cannot close an events reader that never connected.
      if (options.awaitAnswers) {
        events = new QueueEvents(queueName, { prefix: queuePrefix, connection: connectionOptions(url) });
        await connected(events as unknown as Connecting, timeoutMs);
      }
    } catch (error) {
      await closeWithin([queue.close(), events?.close()]);
      throw new QueueUnavailableError(`cannot reach Redis at ${redacted(url)}: ${(error as Error).message || (error as Error).name}`);
    }
    const lane = new QueueLane(url, queue, events, options.report, options.maxWaiting ?? 1024);
    lane.listen();
    setJobQueue(queue);
    return lane;
  }

  /** Requests of this process whose jobs no worker has taken yet, by route. */
  waitingByRoute(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const waiting of this.pending.values()) if (!waiting.started) counts.set(waiting.route, (counts.get(waiting.route) ?? 0) + 1);
    return counts;
  }

  /** Queues a route job and resolves with its answer, or rejects (timeout, Redis down, a failed job, shutdown). */
  submit(job: RouteJob): Promise<RemoteOutcome> {
    if (this.closed) return Promise.reject(new QueueClosedError("the server is shutting down"));
    if (!this.events) return Promise.reject(new Error("this queue lane does not await answers"));
    if (job.signal?.aborted) return Promise.reject(new JobCancelledError("the client left before the job was queued"));
    // Refused at once while Redis is away: a command sent to a silent Redis would wait its whole timeout.
    if (this.lost) return Promise.reject(new QueueUnavailableError("the connection to Redis is lost"));
    if (this.unstarted >= this.maxWaiting) {
      return Promise.reject(new QueueFullError(`${this.unstarted} requests of this server already wait for a worker process`));
    }
    const id = job.idempotencyKey === undefined ? `${this.tag}-${++this.seq}` : idempotentJobId(job.route, job.idempotencyKey);
    if (this.pending.has(id)) return Promise.reject(new IdempotencyConflictError("a request with this Idempotency-Key is still running"));
    return new Promise<RemoteOutcome>((resolve, reject) => {
      const now = performance.now();
      const waiting: Waiting = {
        id,
        route: job.route,
        enqueuedAt: now,
        started: false,
        added: false,
        checkedAt: now,
        timer: undefined,
        signal: job.signal,
        onAbort: undefined,
        resolve,
        reject,
      };
      this.pending.set(id, waiting);
      this.unstarted++;
      waiting.timer = setTimeout(() => void this.expire(waiting), Math.max(1, job.deadline - Date.now()));
      if (job.signal) {
        waiting.onAbort = () => void this.cancel(waiting);
        job.signal.addEventListener("abort", waiting.onAbort, { once: true });
      }
      const { route, request, deadline, timeoutMs, fingerprint } = job;
      const data: RouteJobData = { kind: "route", route, request, deadline, timeoutMs, ...(fingerprint === undefined ? {} : { fingerprint }) };
      const queued = job.idempotencyKey === undefined ? this.add(id, data, routeJobRetention) : this.addOnce(waiting, data);
      queued.then(
        (added) => {
          waiting.added = added;
          this.connectionOk();
        },
        (error: Error) => {
          this.connectionLost(error);
          this.fail(waiting, new QueueUnavailableError(`the job could not be queued: ${error.message}`));
        },
      );
    });
  }

  private async add(id: string, data: RouteJobData, retention: typeof routeJobRetention): Promise<boolean> {
    await this.queue.add(data.route, data, { jobId: id, attempts: 1, ...retention });
    return true;
  }

  /**
   * An idempotent request: its job's id is its key's, so an earlier run is found by it. Sent before
   * with another request (method, target, body): 422. Answered before: that answer, stored. Still queued or running: 409. Failed without an answer (its worker
   * died, its deadline passed): removed, and this request runs it anew. Redis refuses a second job
   * under one id, so two servers racing with one key share one run. Resolves whether it added a job.
   */
  private async addOnce(waiting: Waiting, data: RouteJobData): Promise<boolean> {
    const earlier = await Job.fromId(this.queue, waiting.id);
    if (earlier) {
      if ((earlier.data as RouteJobData).fingerprint !== data.fingerprint) {
        this.fail(waiting, new IdempotencyMismatchError("the key was sent before with another request"));
        return false;
      }
      if (earlier.finishedOn === undefined) {
        this.fail(waiting, new IdempotencyConflictError("a request with this Idempotency-Key is still running"));
        return false;
      }
      if (earlier.returnvalue !== null && earlier.returnvalue !== undefined) {
        this.answer(waiting, earlier.returnvalue);
        return false;
      }
      await earlier.remove();
    }
    const kept = { age: Math.round(idempotencyKeyTtlMs / 1000) };
    return this.add(waiting.id, data, { removeOnComplete: kept, removeOnFail: kept });
  }

  /** Stops awaiting: requests still waiting fail with QueueClosedError; the connections close. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    clearTimeout(this.outageTimer);
    for (const waiting of [...this.pending.values()]) this.fail(waiting, new QueueClosedError("the server stopped waiting for the queue"));
    setJobQueue(undefined, this.queue);
    await closeWithin([this.events?.close(), this.queue.close()]);
  }

  private listen(): void {
    this.queue.on("error", (error) => this.connectionLost(error));
    // The connections themselves say when Redis is gone and when it answers again: with no request
    // coming, nothing else would tell the requests already waiting that it is back.
    this.watch(this.queue.backend);
    if (this.events) this.watch(this.events.backend);
    const events = this.events;
    if (!events) return;
    events.on("error", (error) => this.connectionLost(error));
    events.on("active", ({ jobId }) => {
      const waiting = this.pending.get(jobId);
      if (waiting && !waiting.started) {
        waiting.started = true;
        this.unstarted--;
      }
    });
    events.on("completed", ({ jobId, returnvalue }) => {
      this.connectionOk();
      const waiting = this.pending.get(jobId);
      if (waiting) this.answer(waiting, returnvalue);
    });
    events.on("failed", ({ jobId, failedReason }) => {
      const waiting = this.pending.get(jobId);
      if (waiting) this.fail(waiting, new RemoteJobError(failedReason));
    });
    this.sweeper = setInterval(() => {
      this.sweep();
      if (this.pending.size > 0 || this.lost) this.silence.check(performance.now());
    }, sweepEveryMs);
    this.sweeper.unref();
  }

  private watch(client: { on(event: "ready" | "close", listener: () => void): unknown }): void {
    client.on("ready", () => this.connectionOk());
    client.on("close", () => this.connectionLost(new Error("the connection closed")));
  }

  /**
   * Reads back the jobs of requests that have waited a while (all of them when `everyOne`): an
   * answer whose event was lost is found here, and so is a job Redis lost with its data.
   */
  private sweep(everyOne = false): void {
    const now = performance.now();
    for (const waiting of this.pending.values()) {
      if (!everyOne && now - waiting.checkedAt < sweepEveryMs) continue;
      waiting.checkedAt = now;
      Job.fromId(this.queue, waiting.id).then(
        (job) => {
          if (this.pending.get(waiting.id) !== waiting) return;
          if (job?.finishedOn !== undefined) this.settleFromJob(waiting, job);
          // Stored once, and no longer there while unanswered: a Redis restarted without its data.
          else if (!job && waiting.added) this.fail(waiting, new QueueUnavailableError("its job was lost with Redis's data"));
        },
        () => {}, // Redis is down: the outage's bound or the deadline ends the wait
      );
    }
  }

  /** The deadline: the job's own state says whether it was answered after all; if not, it is removed so it never runs late. */
  private async expire(waiting: Waiting): Promise<void> {
    let job: Job | undefined;
    try {
      job = await Job.fromId(this.queue, waiting.id);
      if (this.pending.get(waiting.id) !== waiting) return;
      if (job?.finishedOn !== undefined) return this.settleFromJob(waiting, job);
      // Removal fails for a job a worker holds: that worker stops it at the same deadline.
      if (job) await this.remove(waiting);
    } catch {
      // Redis is down: the job is still marked with its deadline, which every worker checks first.
    }
    this.fail(waiting, new DeadlineError());
  }

  /** The client left: a job no worker took yet is removed and never runs; one already running finishes unheard. */
  private async cancel(waiting: Waiting): Promise<void> {
    try {
      if ((await this.remove(waiting)) === 1) this.fail(waiting, new JobCancelledError("the client left before a worker took the job"));
    } catch {
      // Redis is down: the deadline ends the wait.
    }
  }

  /** Removes the job of a request that stops waiting for it; a sweep meanwhile must not take it for lost. */
  private remove(waiting: Waiting): Promise<number> {
    waiting.added = false;
    return this.queue.remove(waiting.id);
  }

  private settleFromJob(waiting: Waiting, job: Job): void {
    if (job.returnvalue !== null && job.returnvalue !== undefined) this.answer(waiting, job.returnvalue);
    else this.fail(waiting, new RemoteJobError(job.failedReason || "the job failed"));
  }

  private answer(waiting: Waiting, encoded: unknown): void {
    let result: RemoteResult;
    try {
      result = decodeJobResult(encoded);
    } catch (error) {
      this.fail(waiting, new RemoteJobError(`unreadable answer: ${(error as Error).message}`));
      return;
    }
    if (!this.finish(waiting)) return;
    const totalMs = performance.now() - waiting.enqueuedAt;
    this.onAnswered?.(waiting.route, Math.max(0, totalMs - result.runMs), result.runMs);
    waiting.resolve({ ...result, totalMs });
  }

  private fail(waiting: Waiting, error: Error): void {
    if (this.finish(waiting)) waiting.reject(error);
  }

  /** Takes the request off the waiting list, once; false if it was already settled. */
  private finish(waiting: Waiting): boolean {
    if (this.pending.get(waiting.id) !== waiting) return false;
    this.pending.delete(waiting.id);
    if (!waiting.started) this.unstarted--;
    clearTimeout(waiting.timer);
    if (waiting.onAbort) waiting.signal?.removeEventListener("abort", waiting.onAbort);
    return true;
  }

  private connectionLost(error: Error): void {
    if (this.lost || this.closed) return;
    this.lost = true;
    this.report?.("lost", redacted(this.url), error.message || error.name);
    this.outageTimer = setTimeout(() => this.outageOver(), outageWaitMs);
    this.outageTimer.unref();
  }

  /** Redis has been away for outageWaitMs: the requests still waiting get 503 rather than their whole timeout. */
  private outageOver(): void {
    if (!this.lost || this.closed) return;
    const error = new QueueUnavailableError(`the connection to Redis has been lost for ${outageWaitMs} ms`);
    for (const waiting of [...this.pending.values()]) this.fail(waiting, error);
  }

  private connectionOk(): void {
    if (!this.lost || this.closed) return;
    this.lost = false;
    clearTimeout(this.outageTimer);
    this.report?.("restored", redacted(this.url), "");
    // Answers that came while it was away, or jobs lost with it: found now, not a sweep later.
    this.sweep(true);
  }
}
