// Prometheus metrics for /metrics, with prom-client on a registry of the server's own (never the
// global one, so two servers in one process, or the app's own metrics, do not collide).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** What the metrics need to know about the pool; read at scrape time. */
export interface PoolView {
  /** Workers now: the core, plus growth while work waits on blocked workers. */
  readonly size: number;
  readonly maxSize: number;
  readonly busy: number;
  readonly queued: number;
}

/** Background tasks not finished yet (waiting their turn or running); read at scrape time. */
export interface BackgroundView {
  readonly size: number;
}

export interface FinishedBackgroundTask {
  /** The route whose handler added it (its path pattern). */
  route: string | undefined;
  task: string;
  /** "loop", or "worker#N". */
  lane: string;
  outcome: "ok" | "error" | "refused";
  durationMs: number;
}

export interface FinishedRequest {
  method: string;
  /** The route's path pattern ("/items/:id"), never the raw URL: label values must stay few. */
  route: string | undefined;
  lane: string;
  status: number;
  durationMs: number;
  queuedMs: number | undefined;
}

const seconds = (ms: number) => ms / 1000;
const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"method" | "route" | "lane" | "status">;
  private readonly duration: Histogram<"method" | "route" | "lane">;
  private readonly queueWait: Histogram<"route">;
  private readonly blocks: Counter<"route">;
  private readonly blockedSeconds: Counter<"route">;
  private readonly restarts: Counter<"reason">;
  private readonly refused: Counter<"status">;
  private readonly backgroundTasks: Counter<"route" | "task" | "lane" | "outcome">;
  private readonly backgroundDuration: Histogram<"task" | "lane">;

  constructor(pool: PoolView, background?: BackgroundView) {
    const registers = [this.registry];
    // Includes the event loop delay, measured with monitorEventLoopDelay.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    this.requests = new Counter({
      name: "loopwise_requests_total",
      help: "Requests answered, by route, lane and status.",
      labelNames: ["method", "route", "lane", "status"],
      registers,
    });
    this.duration = new Histogram({
      name: "loopwise_request_duration_seconds",
      help: "Time from reading a request to sending its response, queue wait included.",
      labelNames: ["method", "route", "lane"],
      buckets: latencyBuckets,
      registers,
    });
    this.queueWait = new Histogram({
      name: "loopwise_queue_wait_seconds",
      help: "Time a request waited for a free worker (and at its route's bulkhead).",
      labelNames: ["route"],
      buckets: latencyBuckets,
      registers,
    });
    this.blocks = new Counter({
      name: "loopwise_loop_blocks_total",
      help: "Times the event loop was blocked past the monitor's threshold, by the route that blocked it.",
      labelNames: ["route"],
      registers,
    });
    this.blockedSeconds = new Counter({
      name: "loopwise_loop_blocked_seconds_total",
      help: "Time the event loop spent blocked past the threshold, by route.",
      labelNames: ["route"],
      registers,
    });
    this.restarts = new Counter({
      name: "loopwise_worker_restarts_total",
      help: "Workers replaced after a crash or a handler timeout.",
      labelNames: ["reason"],
      registers,
    });
    this.refused = new Counter({
      name: "loopwise_refused_total",
      help: "Requests answered 503 (overload, shutdown) or 504 (handler timeout).",
      labelNames: ["status"],
      registers,
    });
    this.backgroundTasks = new Counter({
      name: "loopwise_background_tasks_total",
      help: "Background tasks finished, by the route that added them, task, lane and outcome (ok, error, or refused by a busy pool).",
      labelNames: ["route", "task", "lane", "outcome"],
      registers,
    });
    this.backgroundDuration = new Histogram({
      name: "loopwise_background_task_duration_seconds",
      help: "Time a background task ran (a plain one's wait for a worker included).",
      labelNames: ["task", "lane"],
      buckets: latencyBuckets,
      registers,
    });
    poolGauges(pool, registers);
    if (background) {
      new Gauge({
        name: "loopwise_background_tasks_pending",
        help: "Background tasks not finished yet: waiting their turn after their request's earlier ones, or running.",
        registers,
        collect() {
          this.set(background.size);
        },
      });
    }
  }

  backgroundTaskFinished(task: FinishedBackgroundTask): void {
    const lane = task.lane === "loop" ? "loop" : "worker";
    this.backgroundTasks.inc({ route: task.route ?? "(unmatched)", task: task.task, lane, outcome: task.outcome });
    this.backgroundDuration.observe({ task: task.task, lane }, seconds(task.durationMs));
  }

  requestFinished(request: FinishedRequest): void {
    const route = request.route ?? "(unmatched)";
    const lane = request.lane === "loop" ? "loop" : "worker";
    this.requests.inc({ method: request.method, route, lane, status: String(request.status) });
    this.duration.observe({ method: request.method, route, lane }, seconds(request.durationMs));
    if (request.queuedMs !== undefined) this.queueWait.observe({ route }, seconds(request.queuedMs));
    if (request.status === 503 || request.status === 504) this.refused.inc({ status: String(request.status) });
  }

  loopBlocked(route: string, durationMs: number): void {
    this.blocks.inc({ route });
    this.blockedSeconds.inc({ route }, seconds(durationMs));
  }

  workerReplaced(reason: string): void {
    this.restarts.inc({ reason });
  }

  /** The text exposition format, for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The pool's state, read when /metrics is scraped. */
function poolGauges(pool: PoolView, registers: Registry[]): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  gauge("loopwise_pool_workers", "Worker threads in the pool now: its core, and more while work waits on blocked workers.", () => pool.size);
  gauge("loopwise_pool_max_workers", "Most worker threads the pool may grow to.", () => pool.maxSize);
  gauge("loopwise_pool_busy_workers", "Workers running a task now.", () => pool.busy);
  gauge("loopwise_pool_queue_depth", "Worker-lane tasks waiting for a free worker.", () => pool.queued);
}
