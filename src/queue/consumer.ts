// The main thread's side of a worker process's consumer thread (see consumer-thread.ts): it starts
// the thread, runs each job it is handed and answers, and closes it so that running jobs finish
// and no new one is taken.
import { Worker } from "node:worker_threads";
import type { CloseMessage, ConsumerMessage, ConsumerSettings, JobMessage, JobReply } from "./consumer-protocol.js";
import { redacted } from "./redis-url.js";

/** What running a job gave: its value, or an error and whether BullMQ may try it again. */
export type JobOutcome = { ok: true; value: unknown } | { ok: false; error: Error; retry: boolean };

export interface ConsumerEvents {
  /** Runs one job; never rejects (a failure is an outcome). */
  run: (job: JobMessage) => Promise<JobOutcome>;
  stalled?: (id: string) => void;
  error?: (message: string) => void;
}

export class JobConsumer {
  private readonly running = new Set<number>();
  private closing: Promise<void> | undefined;
  private closed: (() => void) | undefined;

  private constructor(
    private readonly thread: Worker,
    private readonly events: ConsumerEvents,
  ) {}

  /** Starts the consumer thread; resolves once it reaches Redis (rejects at the first connection error, or after `connectTimeoutMs`). */
  static async start(settings: ConsumerSettings, events: ConsumerEvents, connectTimeoutMs = 10_000): Promise<JobConsumer> {
    // "../queue/" so it resolves from dist/chunks/ too, where the bundle puts this code.
    const thread = new Worker(new URL("../queue/consumer-thread.js", import.meta.url), { workerData: settings });
    const consumer = new JobConsumer(thread, events);
    let started = false;
    await new Promise<void>((resolve, reject) => {
      const unreachable = (why: string) => fail(new Error(`cannot reach Redis at ${redacted(settings.redisUrl)}: ${why}`));
      const timer = setTimeout(() => unreachable("no answer"), connectTimeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        void thread.terminate();
        reject(error);
      };
      const died = (error: Error) => fail(new Error(`the consumer thread could not start: ${error.message}`));
      thread.once("error", died);
      thread.on("message", (message: ConsumerMessage) => {
        if (message.type === "ready") {
          started = true;
          clearTimeout(timer);
          thread.off("error", died);
          resolve();
        } else if (message.type === "error" && !started) {
          // As on the server: the first connection error fails the start.
          return unreachable(message.message);
        }
        consumer.onMessage(message);
      });
    });
    thread.on("error", (error) => events.error?.(`the consumer thread died: ${error.message}`));
    return consumer;
  }

  /** Jobs running now. */
  get size(): number {
    return this.running.size;
  }

  /**
   * Takes no new job and resolves once the running ones have finished. `force` ends the thread
   * at once: the running jobs' locks lapse and another worker takes them.
   */
  close(force = false): Promise<void> {
    if (force) return this.thread.terminate().then(() => undefined);
    this.closing ??= new Promise<void>((resolve) => {
      this.closed = resolve;
      this.thread.postMessage({ type: "close" } satisfies CloseMessage);
    }).then(() => this.thread.terminate().then(() => undefined));
    return this.closing;
  }

  private onMessage(message: ConsumerMessage): void {
    switch (message.type) {
      case "job":
        this.running.add(message.seq);
        // Even a runner that throws answers: a job never stays running forever on our side.
        Promise.resolve()
          .then(() => this.events.run(message))
          .catch((error: unknown): JobOutcome => ({ ok: false, error: error instanceof Error ? error : new Error(String(error)), retry: false }))
          .then((outcome) => this.reply(message.seq, outcome));
        break;
      case "stalled":
        this.events.stalled?.(message.id);
        break;
      case "error":
        this.events.error?.(message.message);
        break;
      case "closed":
        this.closed?.();
        break;
    }
  }

  private reply(seq: number, outcome: JobOutcome): void {
    this.running.delete(seq);
    const reply: JobReply = outcome.ok
      ? { type: "done", seq, ok: true, value: outcome.value }
      : { type: "done", seq, ok: false, error: outcome.error.message, stack: outcome.error.stack, retry: outcome.retry };
    try {
      this.thread.postMessage(reply);
    } catch (error) {
      // A value postMessage cannot clone: the job fails, said plainly, rather than hanging.
      this.thread.postMessage({ type: "done", seq, ok: false, error: `the job's result cannot be sent: ${(error as Error).message}`, retry: false });
    }
  }
}
