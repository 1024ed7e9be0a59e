// The server's side of background tasks: starting each request's tasks once its answer is out,
// counting them (pending ones too) so that shutdown can wait for them within the grace period,
// and reporting each one's end (a log line when it failed, a metric always).
import type { BackgroundOutcome } from "../lanes/background.js";
import { runBackgroundTasks } from "../lanes/background.js";
import type { HandledRequest } from "../app/handle-request.js";
import type { TaskExecutor } from "../lanes/executor.js";
import type { BackgroundEntry } from "../threads/background-tasks.js";
import { InFlight } from "./drain.js";

/** Told of each task's end, with the route whose handler added it. */
export type BackgroundReport = (route: { method: string; path: string } | undefined, outcome: BackgroundOutcome) => void;

/** One request's tasks: they run in order, so those before `next` have finished. */
interface Batch {
  route: { method: string; path: string } | undefined;
  entries: readonly BackgroundEntry[];
  next: number;
}

export class BackgroundWork {
  /** Tasks added and not yet finished: waiting their turn behind their request's earlier tasks, or running. */
  private readonly pending = new InFlight();
  private readonly batches = new Set<Batch>();

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
    const batch: Batch = { route: result.route, entries, next: 0 };
    this.batches.add(batch);
    void runBackgroundTasks(entries, this.executor, (outcome) => {
      if (++batch.next === entries.length) this.batches.delete(batch);
      this.pending.end();
      this.report(batch.route, outcome);
    });
  }

  /** Resolves true once every task finished, false if `graceMs` passes first. */
  drained(graceMs: number): Promise<boolean> {
    return this.pending.drained(graceMs);
  }

  /** The tasks not finished, for the shutdown log: "notify of POST /orders (running)", "audit of POST /orders (not started)". */
  unfinished(): string[] {
    const names: string[] = [];
    for (const { route, entries, next } of this.batches) {
      const of = route ? ` of ${route.method} ${route.path}` : "";
      for (let i = next; i < entries.length; i++) names.push(`${entries[i]!.name}${of} (${i === next ? "running" : "not started"})`);
    }
    return names;
  }
}
