// The core is replaced forever: a core slot whose replacement cannot start (the app fails to
// load) tries again after a backoff that grows. While one does and no worker is ready, tasks are
// refused at once rather than queued for a worker that may never come. Part of the pure policy.
import { backoffMs } from "./backoff.js";
import type { PolicyActions, PolicyTask, PolicyWorker } from "./contract.js";
import type { Refusal } from "./refusal.js";
import { after, type Instant } from "./time.js";
import type { WorkerTable } from "./worker-table.js";

export class CoreRestarts<T extends PolicyTask> {
  /** Core slots whose last starts failed. */
  private failing = 0;

  constructor(
    private readonly table: WorkerTable<T>,
    private readonly actions: PolicyActions<T>,
    private readonly wakeAt: (at: Instant) => void,
    private readonly launch: (worker: PolicyWorker<T>) => void,
  ) {}

  /** False while no worker is ready and replacements keep failing to start. */
  get available(): boolean {
    return this.failing === 0 || this.table.ready > 0;
  }

  /** A core worker is ready. */
  started(worker: PolicyWorker<T>): void {
    if (worker.failures > 0) this.failing--;
    worker.failures = 0;
  }

  /** A core worker failed to start: its slot waits a backoff, then tries again. */
  failed(worker: PolicyWorker<T>, now: Instant): void {
    if (worker.failures === 0) this.failing++;
    worker.failures++;
    worker.state = "restart-wait";
    const retryInMs = backoffMs(worker.failures);
    worker.restartAt = after(now, retryInMs);
    this.actions.restartFailed(worker.slot, worker.failures, retryInMs);
    this.wakeAt(worker.restartAt);
  }

  /** Starts the replacements whose backoff is over (unless the pool closes). */
  tick(now: Instant, closing: boolean): void {
    for (const worker of this.table) {
      if (worker.state !== "restart-wait" || closing) continue;
      if (worker.restartAt <= now) this.launch(worker);
      else this.wakeAt(worker.restartAt);
    }
  }

  /** The refusal while unavailable: retry after the shortest backoff in progress. */
  refusal(): Refusal {
    let attempts = Number.POSITIVE_INFINITY;
    for (const worker of this.table) if (worker.failures > 0) attempts = Math.min(attempts, worker.failures);
    return { reason: "unavailable", attempts, retryAfterSeconds: Math.max(1, Math.ceil(backoffMs(attempts) / 1000)) };
  }
}
