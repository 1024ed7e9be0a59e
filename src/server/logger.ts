import type { SerializedError } from "../pool/protocol.js";
import type { PoolResizeEvent, RestartFailedEvent, WorkerExitEvent } from "../pool/pool.js";
import type { LoopBlock } from "../monitor/loop-monitor.js";
import { accessToJson, formatAccessText, round, type AccessRecord } from "./access-line.js";
import type { AbandonedHook } from "./shutdown-hooks.js";
import { thrownMessage } from "./thrown-error.js";
import { currentAppLogSink, setAppLogSink, textFields, textMessage, type AppLogRecord } from "../log/app-log.js";
import { levelLabels, logLevels } from "../log/levels.js";
import { jsonSafeFields } from "../pool/protocol.js";
import { processFields } from "./access-line.js";

export type { AccessRecord } from "./access-line.js";

export type LogFormat = "text" | "json";
export type { LogLevel } from "../log/levels.js";

export interface LoggerOptions {
  format?: LogFormat;
  accessLog?: boolean;
  /** Lines below it are not written (pino's numbers: logLevels); access lines are info. */
  level?: number;
  /** Where lines go; defaults to stdout for the access log and stderr for the rest, as uvicorn does. */
  write?: (line: string, stream: "out" | "err") => void;
}

/**
 * Every line the server can print, one method per event, in text or JSON lines. Lines are
 * batched and written once per tick, so a busy server makes one write call, not one per request.
 */
export class Logger {
  readonly format: LogFormat;
  readonly accessLogEnabled: boolean;
  readonly level: number;
  private readonly sink: (line: string, stream: "out" | "err") => void;
  private pending: { out: string[]; err: string[] } = { out: [], err: [] };
  private flushScheduled = false;

  constructor(options: LoggerOptions = {}) {
    this.format = options.format ?? "text";
    if (this.format !== "text" && this.format !== "json") {
      throw new TypeError(`log format must be "text" or "json", got ${JSON.stringify(this.format)}`);
    }
    this.level = options.level ?? logLevels.info;
    this.accessLogEnabled = (options.accessLog ?? true) && this.level <= logLevels.info;
    this.sink = options.write ?? ((line, stream) => (stream === "out" ? process.stdout : process.stderr).write(line));
  }

  reloading(folder: string): void {
    this.info("reload", `Will watch for changes in ${folder}`, { folder });
  }
  changeDetected(file: string): void {
    this.line(logLevels.warning, "reload", `Detected a change in '${file}'. Reloading...`, { file });
  }

  parentStarted(pid: number, children: number): void {
    this.info("process", `Started parent process [${pid}], forking ${children} server processes`, { pid, children });
  }
  childExited(pid: number, exitCode: number, wasServing: boolean): void {
    this.line(
      logLevels.warning,
      "process",
      wasServing
        ? `Server process [${pid}] died (exit code ${exitCode}); starting another.`
        : `Server process [${pid}] could not start (exit code ${exitCode}); stopping.`,
      { pid, exit_code: exitCode },
    );
  }
  childRecycling(pid: number): void {
    this.info("process", `Server process [${pid}] reached its request limit; starting its replacement, then stopping it.`, { pid });
  }
  parentFinished(pid: number): void {
    this.info("process", `Stopping parent process [${pid}]`, { pid });
  }

  startedProcess(): void {
    this.info("process", `Started server process [${process.pid}]`, { pid: process.pid });
  }
  waitingForStartup(): void {
    this.info("startup", "Waiting for application startup.");
  }
  poolReady(size: number, routes: number, maxSize = size): void {
    const growth = maxSize > size ? ` It grows to ${maxSize} while work waits on blocked workers.` : "";
    this.info("pool", `Worker pool ready: ${size} threads, each loaded the app and checked its ${routes} routes.${growth}`, {
      size,
      routes,
      max_size: maxSize,
    });
  }
  startupComplete(): void {
    this.info("startup", "Application startup complete.");
  }
  listening(url: string): void {
    const where = url.startsWith("unix:") ? `unix socket ${url.slice("unix:".length)}` : url;
    this.info("listening", `Loopwise running on ${where} (Press CTRL+C to quit)`, { url });
  }

  access(record: AccessRecord): void {
    if (!this.accessLogEnabled) return;
    this.push("out", this.format === "json" ? JSON.stringify(accessToJson(record)) : formatAccessText(record));
  }

  handlerError(method: string, path: string, lane: string, error: SerializedError): void {
    this.line(
      logLevels.error,
      "handler-error",
      `Exception in ${method} ${path} (lane=${lane}):\n${error.stack ?? `${error.name}: ${error.message}`}`,
      {
        method,
        path,
        lane,
        error: error.message,
      },
    );
  }
  /** A background task failed (or could not run); the tasks after it still run. */
  backgroundTaskFailed(method: string, path: string, task: string, lane: string, error: SerializedError): void {
    this.line(
      logLevels.error,
      "background-task-error",
      `Exception in background task ${task} of ${method} ${path} (lane=${lane}):\n${error.stack ?? `${error.name}: ${error.message}`}`,
      { method, path, task, lane, error: error.message },
    );
  }
  /** The pool refused a background task (busy past its limits, shutting down): one line, as for a refused request. */
  backgroundTaskRefused(method: string, path: string, task: string, reason: string): void {
    this.line(
      logLevels.warning,
      "background-task-refused",
      `Background task ${task} of ${method} ${path} was refused by the worker pool: ${reason}`,
      {
        method,
        path,
        task,
        error: reason,
      },
    );
  }
  /** An error outside any request reached the process (see containStrayErrors); the server goes on. */
  strayError(kind: string, error: SerializedError): void {
    this.line(
      logLevels.error,
      "stray-error",
      `An ${kind} outside any request (the server keeps serving):\n${error.stack ?? `${error.name}: ${error.message}`}`,
      {
        kind,
        error: error.message,
        stack: error.stack ?? null,
      },
    );
  }
  workerExited(event: WorkerExitEvent): void {
    const cause = event.error ? `${event.error.name}: ${event.error.message}` : `exit code ${event.exitCode}`;
    // A worker above the core is not replaced: the pool grows again if work still waits.
    const next = event.replaced ? " Starting a replacement." : "";
    let message: string;
    if (event.reason === "timeout") {
      message = `worker#${event.slot} was terminated because its handler ran past its timeout (the request got a 504).${next}`;
    } else if (event.stray) {
      message =
        `worker#${event.slot} crashed on an error left behind by earlier work, such as a timer or an unawaited promise (${cause})` +
        `${event.hadTask ? "; the request running there got a 500 that was not its fault" : ""}.${next}` +
        (event.error?.stack ? `\n${event.error.stack}` : "");
    } else {
      message = `worker#${event.slot} died (${cause})${event.hadTask ? "; its request got a 500" : ""}.${next}`;
    }
    this.line(logLevels.warning, "worker-exit", message, {
      slot: event.slot,
      reason: event.reason,
      exit_code: event.exitCode,
      had_task: event.hadTask,
      stray: event.stray,
      replaced: event.replaced,
    });
  }

  /** The worker pool grew past its core, or shrank back, and why. */
  poolResized(event: PoolResizeEvent): void {
    if (event.kind === "grow") {
      const cpu = `process CPU ${Math.round(event.cpuShare * 100)}% of ${event.cores} core${event.cores === 1 ? "" : "s"}`;
      this.info(
        "pool-resize",
        `Worker pool grew from ${event.from} to ${event.to}: ${event.waiting} tasks waiting while the busy workers were blocked (${cpu})`,
        {
          kind: event.kind,
          from: event.from,
          to: event.to,
          waiting: event.waiting,
          cpu_share: round(event.cpuShare),
          cores: event.cores,
        },
      );
    } else if (event.kind === "quick") {
      this.info(
        "pool-resize",
        `Worker pool grew from ${event.from} to ${event.to}: worker#${event.slot} takes only quick tasks, which waited while every worker held slower work`,
        { kind: event.kind, from: event.from, to: event.to, slot: event.slot, waiting: event.waiting },
      );
    } else {
      const idle = `${event.retired} worker${event.retired === 1 ? "" : "s"} idle for ${event.idleMs / 1000} s`;
      this.info("pool-resize", `Worker pool shrank from ${event.from} to ${event.to}: ${idle}`, {
        kind: event.kind,
        from: event.from,
        to: event.to,
        retired: event.retired,
        idle_ms: event.idleMs,
      });
    }
  }

  restartFailed(event: RestartFailedEvent): void {
    const message =
      `worker#${event.slot} could not start (try ${event.attempt}): ${event.error.message}. ` +
      `Trying again in ${(event.retryInMs / 1000).toFixed(event.retryInMs < 1000 ? 2 : 0)} s; while no worker runs, worker-lane requests get 503.`;
    this.line(logLevels.error, "worker-restart-failed", message, {
      slot: event.slot,
      attempt: event.attempt,
      retry_in_ms: event.retryInMs,
      error: event.error.message,
    });
  }

  endpoint(event: string, what: string, url: string): void {
    this.info(event, `${what} at ${url}`, { url });
  }

  loopBlocked(block: LoopBlock, route: string | undefined, message: string): void {
    this.line(logLevels.warning, "loop-blocked", message, {
      start: Math.round(block.start),
      blocked_ms: Math.round(block.durationMs),
      culprit: block.culprit,
      route: route ?? null,
      where: block.where ?? null,
      native: block.native,
      waited: block.waited,
    });
  }

  /** --limit-max-requests: this process stops taking requests (a --workers parent starts its replacement first). */
  requestLimitReached(count: number): void {
    this.line(logLevels.warning, "limit-max-requests", `Maximum request limit of ${count} exceeded. Terminating process.`, { requests: count });
  }
  shuttingDown(signal: string): void {
    this.info("shutdown", `Shutting down (${signal})`, { signal });
  }
  waitingForRequests(count: number): void {
    this.info("shutdown", `Waiting for ${count} in-flight request${count === 1 ? "" : "s"} to finish.`, { in_flight: count });
  }
  graceExpired(count: number, graceMs: number): void {
    this.line(logLevels.error, "shutdown", `Grace period of ${graceMs} ms is over with ${count} request(s) still running; closing them.`, {
      in_flight: count,
    });
  }
  waitingForBackgroundTasks(count: number): void {
    this.info("shutdown", `Waiting for ${count} background task${count === 1 ? "" : "s"} to finish.`, { background_tasks: count });
  }
  backgroundTasksLeft(tasks: string[], graceMs: number): void {
    this.line(
      logLevels.error,
      "shutdown",
      `Grace period of ${graceMs} ms is over with ${tasks.length} background task(s) not finished; abandoning them: ${tasks.join(", ")}.`,
      { background_tasks: tasks.length, tasks },
    );
  }
  waitingForShutdown(): void {
    this.info("shutdown", "Waiting for application shutdown.");
  }
  shutdownHookFailed(error: Error): void {
    this.line(logLevels.error, "shutdown", `A shutdown hook failed:\n${error.stack ?? error.message}`, { error: error.message });
  }
  /** A hook the grace period cut short, or one whose promise could never settle. */
  shutdownHookAbandoned(abandoned: AbandonedHook, graceMs: number): void {
    const why = abandoned.neverSettles
      ? `${abandoned.hook} never settled: its promise was still pending when nothing was left to run that could settle it; abandoning it.`
      : `Grace period of ${graceMs} ms is over with ${abandoned.hook} still running; abandoning it.`;
    const notRun = abandoned.notRun.length > 0 ? ` Not run: ${abandoned.notRun.join(", ")}.` : "";
    this.line(logLevels.error, "shutdown", why + notRun, { hook: abandoned.hook, never_settles: abandoned.neverSettles, not_run: abandoned.notRun });
  }
  /** The end of the shutdown hooks: complete, or failed when a hook threw or was abandoned. */
  shutdownComplete(failed = false): void {
    if (failed) this.line(logLevels.error, "shutdown", "Application shutdown failed.", {});
    else this.info("shutdown", "Application shutdown complete.");
  }
  finishedProcess(): void {
    this.info("process", `Finished server process [${process.pid}]`, { pid: process.pid });
  }
  /** Anything may have been thrown: a value that is not an Error is described, never read as one. */
  startupFailed(error: unknown): void {
    const message = thrownMessage(error, "the startup");
    this.line(logLevels.error, "startup", `Application startup failed: ${message}`, { error: message });
  }

  // The queue lane, server side (a `loopwise worker` process has its own lines: worker-log.ts).
  queueReady(url: string, routes: number): void {
    const what = routes === 1 ? "1 queue-lane route runs" : `${routes} queue-lane routes run`;
    this.info("queue", `Queue lane ready: ${what} on \`loopwise worker\` processes, through ${url}`, { url, routes });
  }
  queueConnection(state: "lost" | "restored", url: string, detail: string): void {
    if (state === "lost") {
      this.line(
        logLevels.warning,
        "queue-connection",
        `Lost the connection to Redis at ${url} (${detail}); queue-lane requests get 503 until it is back.`,
        {
          state,
          url,
          error: detail,
        },
      );
    } else this.info("queue-connection", `The connection to Redis at ${url} is back.`, { state, url });
  }
  /**
   * Makes this thread's application lines (`log`, `req.log`) this log's; returns what puts the
   * previous sink back (a second server in the same process, a test, restores the first's).
   */
  takeAppLog(): () => void {
    const sink = { level: this.level, write: (record: AppLogRecord) => this.app(record) };
    const previous = setAppLogSink(sink);
    return () => void (currentAppLogSink() === sink && setAppLogSink(previous));
  }

  /** A line of the application's own (`log`, `req.log`), from this thread or from pool worker `worker`. */
  app(record: AppLogRecord, worker?: number): void {
    if (record.level < this.level) return;
    const fields = worker === undefined ? record.fields : { ...record.fields, worker };
    const json = (own: Record<string, unknown>) =>
      JSON.stringify({ ...own, level: record.level, time: record.time, ...processFields, msg: String(record.msg) });
    let line: string;
    if (this.format === "text")
      line = `${new Date(record.time).toISOString()} ${levelLabels[record.level] ?? record.level} ${textMessage(String(record.msg))}${textFields(fields)}`;
    else {
      try {
        line = json(fields);
      } catch {
        line = json(jsonSafeFields(fields)); // a cycle or a BigInt in the app's fields must not throw into its handler
      }
    }
    this.push("err", line);
  }

  /** Writes everything pending now (at exit, or before a synchronous crash). */
  flush(): void {
    this.flushScheduled = false;
    const { out, err } = this.pending;
    this.pending = { out: [], err: [] };
    if (out.length > 0) this.sink(out.join("\n") + "\n", "out");
    if (err.length > 0) this.sink(err.join("\n") + "\n", "err");
  }

  protected info(event: string, message: string, fields: Record<string, unknown> = {}): void {
    this.line(logLevels.info, event, message, fields);
  }

  protected line(level: number, event: string, message: string, fields: Record<string, unknown>): void {
    if (level < this.level) return;
    const time = Date.now();
    this.push(
      "err",
      this.format === "json"
        ? JSON.stringify({ level, time, ...processFields, event, msg: message, ...fields })
        : `${new Date(time).toISOString()} ${levelLabels[level]} ${message}`,
    );
  }

  protected push(stream: "out" | "err", line: string): void {
    this.pending[stream].push(line);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }
}
