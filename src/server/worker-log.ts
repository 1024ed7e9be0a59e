// The lines only a `loopwise worker` process prints: its start, the jobs it takes (its access
// log), stalled jobs, queue errors and its shutdown. Everything else it shares with the server's Logger.
import type { JobRecord } from "../queue/job-runner.js";
import { logLevels } from "../log/levels.js";
import { formatJobText, jobToJson } from "./job-log.js";
import { Logger } from "./logger.js";

export class WorkerProcessLogger extends Logger {
  startedWorkerProcess(): void {
    this.info("process", `Started worker process [${process.pid}]`, { pid: process.pid });
  }
  consuming(url: string, concurrency: number, routes: number, jobs: number): void {
    this.info(
      "consuming",
      `Taking jobs from ${url}: ${routes} queue-lane route${routes === 1 ? "" : "s"}, ${jobs} durable job${jobs === 1 ? "" : "s"}, ` +
        `${concurrency} at a time (Press CTRL+C to quit)`,
      { url, routes, jobs, concurrency },
    );
  }
  /** One job done by this worker process: its access line. */
  job(record: JobRecord): void {
    if (this.accessLogEnabled) this.push("out", this.format === "json" ? JSON.stringify(jobToJson(record)) : formatJobText(record));
  }
  jobStalled(id: string): void {
    this.line(
      logLevels.warning,
      "job-stalled",
      `Job ${id} went back to the queue: the worker process running it stopped renewing its lock (it died or lost Redis).`,
      { id },
    );
  }
  queueError(message: string): void {
    this.line(logLevels.error, "queue-error", `Queue: ${message}`, { error: message });
  }
  waitingForJobs(count: number): void {
    this.info("shutdown", `Taking no new jobs; waiting for ${count} running job${count === 1 ? "" : "s"} to finish.`, { running: count });
  }
  jobsGraceExpired(count: number, graceMs: number): void {
    this.line(
      logLevels.error,
      "shutdown",
      `Grace period of ${graceMs} ms is over with ${count} job(s) still running; they go back to the queue for another worker.`,
      {
        running: count,
      },
    );
  }
  finishedWorkerProcess(): void {
    this.info("process", `Finished worker process [${process.pid}]`, { pid: process.pid });
  }
}
