// The server's side of background tasks: starting each request's tasks once its answer is out,
// counting them (pending ones too) so that shutdown can wait for them within the grace period,
// and reporting each one's end (a log line when it failed, a metric always).
import type { BackgroundOutcome } from "../lanes/background.js";
import { runBackgroundTasks } from "../lanes/background.js";
import type { HandledRequest } from "../app/handle-request.js";
import type { TaskExecutor } from "../lanes/executor.js";
import { InFlight } from "./drain.js";

/** Told of each task's end, with the route whose handler added it. */
export type BackgroundReport = (route: { method: string; path: string } | undefined, outcome: BackgroundOutcome) => void;

export class BackgroundWork {
  /** Tasks added and not yet finished: waiting their turn behind their request's earlier tasks, or running. */
  private readonly pending = new InFlight();

  constructor(
    private readonly executor: TaskExecutor,
    private readonly report: BackgroundReport,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** Starts the tasks the request's handler added, if any. Never throws. */
  start(result: HandledRequest): void {
    const entries = result.background;
    if (!entries || entries.length === 0) return;
    for (let i = 0; i < entries.length; i++) this.pending.begin();
    const route = result.route;
    void runBackgroundTasks(entries, this.executor, (outcome) => {
      this.pending.end();
      this.report(route, outcome);
    });
  }

  /** Resolves true once every task finished, false if `graceMs` passes first. */
  drained(graceMs: number): Promise<boolean> {
    return this.pending.drained(graceMs);
  }
}
