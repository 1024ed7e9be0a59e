// Which worker threads exist. The core (slots 1..coreSize) starts up front and is replaced
// forever, with a backoff while replacements cannot start. Growth workers (the slots above)
// start on demand, are retired when idle, and are not replaced: growth starts them again if
// work still waits. One slot above the max holds the quick worker: started when quick tasks
// wait while every worker is held by slower work, it takes only quick tasks (see Elastic).
// Slot numbers (worker#N in the log) are reused.
import { PoolUnavailableError, shedError } from "./pool-errors.js";
import type { PoolOptions } from "./pool-options.js";
import type { TaskResult } from "./protocol.js";
import { compileApp, type CompiledApp } from "./compile-app.js";
import { flagsWithoutTsx, isTypeScript, nodeStripsTypes, type ModuleLoader } from "./module-loader.js";
import { availableParallelism } from "node:os";
import { backoffMs } from "./restart-policy.js";
import { spawnWorker, type SpawnOptions } from "./spawn-worker.js";
import type { WorkerState } from "./worker-state.js";

export interface SlotEvents {
  ready(worker: WorkerState): void;
  results(worker: WorkerState, results: TaskResult[]): void;
  /** A worker died (a retired one is not reported): settle what it held; its slot is refilled after. */
  died(worker: WorkerState, exitCode: number, error: Error | undefined, replaced: boolean): void;
  /** No worker is ready and every failing slot is waiting to try again: refuse what waits. */
  unavailable(error: PoolUnavailableError): void;
}

export class WorkerSlots {
  /** By slot - 1; a growth slot is empty until it is used. */
  private readonly workers: (WorkerState | undefined)[] = [];
  private occupied = 0;
  /** Workers spawned, or about to be, that have not loaded the app yet. */
  starting = 0;
  /** Growth slots taken whose worker is created on a coming turn of the loop (see grow). */
  private readonly reserved: number[] = [];
  /** Growth workers spawned and not ready yet, and the most of them at once (see grow). */
  private growthStarting = 0;
  private readonly concurrentGrowthStarts = Math.max(2, availableParallelism());
  private spawnScheduled = false;
  /** Failed starts in a row, by core slot; a slot with failures is waiting to try again. */
  private readonly failedStarts = new Map<number, number>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  /** Growth workers that failed to start in a row, and until when growth waits because of it. */
  private growthFailures = 0;
  private growthPausedUntil = 0;
  private closing = false;
  /** The ways workers may load the app, cheapest first (see ModuleLoader), and the one new workers use. */
  private loaders: ModuleLoader[] = ["tsx"];
  private loader = 0;
  private compiled: CompiledApp | undefined;

  constructor(
    readonly coreSize: number,
    readonly maxSize: number,
    /** Made for each start: shared memory registered since is handed on too. */
    private readonly spawnOptions: () => Omit<SpawnOptions, "loader" | "compiled">,
    private readonly events: SlotEvents,
    private readonly options: Pick<PoolOptions, "onRestartFailed" | "loaders">,
  ) {}

  /** Workers in the pool, including the ones still starting (and the quick worker). */
  get size(): number {
    return this.occupied;
  }

  /** How many more workers growth may start: up to the max, the quick worker apart. */
  get growthRoom(): number {
    return this.maxSize - this.occupied + (this.quickWorker ? 1 : 0);
  }

  /** The worker that takes only quick tasks, while there is one. */
  get quickWorker(): WorkerState | undefined {
    return this.workers[this.maxSize];
  }

  /** Starts the quick worker in the slot above the max (not while growth waits after failed starts); returns its slot, or undefined. */
  startQuickWorker(now: number): number | undefined {
    const slot = this.maxSize + 1;
    if (this.closing || this.quickWorker || now < this.growthPausedUntil) return undefined;
    this.occupied++;
    this.spawn(slot).catch(() => {});
    return slot;
  }

  get all(): readonly (WorkerState | undefined)[] {
    return this.workers;
  }

  /** False while no worker is ready and replacements keep failing to start. */
  get available(): boolean {
    return this.failedStarts.size === 0 || this.workers.some((w) => w?.ready);
  }

  /** How new workers load the app. */
  get moduleLoader(): ModuleLoader {
    return this.loaders[this.loader]!;
  }

  /**
   * Chooses how workers load the app: a TypeScript app is compiled once here, so that no worker
   * needs a loader of its own; if it cannot be, or a worker cannot start so, they fall back to
   * Node's own type stripping where Node has it, then to tsx.
   */
  async prepare(): Promise<void> {
    const { moduleUrl } = this.spawnOptions();
    if (this.options.loaders) {
      this.loaders = [...this.options.loaders];
      if (this.loaders.includes("compiled")) this.compiled = await compileApp(moduleUrl);
      return;
    }
    if (!isTypeScript(moduleUrl)) {
      // A JavaScript app needs no loader; one whose process runs tsx may import TypeScript, so tsx stays the fallback.
      this.loaders = flagsWithoutTsx(process.execArgv).length < process.execArgv.length ? ["plain", "tsx"] : ["plain"];
      return;
    }
    this.loaders = nodeStripsTypes() ? ["native", "tsx"] : ["tsx"];
    try {
      this.compiled = await compileApp(moduleUrl);
      this.loaders.unshift("compiled");
    } catch {
      // Not compiled ahead (CommonJS modules, esbuild missing): the workers load it the next way.
    }
  }

  /** Starts the core; resolves once each loaded the app. */
  startCore(): Promise<void>[] {
    const starts: Promise<void>[] = [];
    for (let slot = 1; slot <= this.coreSize; slot++) {
      this.occupied++;
      starts.push(this.spawn(slot));
    }
    return starts;
  }

  /**
   * Starts up to `count` growth workers in free slots (none while growth is paused after failed
   * starts); returns how many. A worker takes tens of milliseconds of CPU to start: started all
   * at once, 36 share the cores and all become ready late (the first after most of a second on
   * 2 cores), and creating them held the loop for a third of a second. So a few start at a time,
   * as many as there are cores, each created on a turn of the event loop of its own: they
   * become ready one after another, each taking work as it comes, in the same total time.
   */
  grow(count: number, now: number): number {
    if (now < this.growthPausedUntil) return 0;
    let started = 0;
    for (let slot = this.coreSize + 1; slot <= this.maxSize && started < count; slot++) {
      if (this.workers[slot - 1] || this.reserved.includes(slot)) continue;
      this.occupied++;
      this.starting++;
      this.reserved.push(slot);
      started++;
    }
    if (started > 0) this.startReserved();
    return started;
  }

  private startReserved(): void {
    if (this.spawnScheduled || this.reserved.length === 0 || this.growthStarting >= this.concurrentGrowthStarts) return;
    this.spawnScheduled = true;
    setImmediate(this.spawnReserved);
  }

  private readonly spawnReserved = (): void => {
    this.spawnScheduled = false;
    const slot = this.reserved.shift();
    if (slot === undefined || this.closing) return;
    this.starting--; // spawn() counts it again
    this.growthStarting++;
    this.spawn(slot).then(
      () => this.growthStarted(),
      () => this.growthStarted(),
    );
    this.startReserved();
  };

  /** A growth worker is ready, or could not start: the next may. */
  private growthStarted(): void {
    this.growthStarting--;
    this.startReserved();
  }

  /** Ends idle growth workers on purpose: not a crash, nothing is replaced or logged as a failure. */
  retire(workers: WorkerState[]): void {
    for (const worker of workers) {
      worker.retired = true;
      worker.ready = false;
      this.vacate(worker);
      void worker.worker.terminate();
    }
  }

  unavailableError(): PoolUnavailableError {
    const attempts = Math.min(...this.failedStarts.values());
    const retryAfter = Math.max(1, Math.ceil(backoffMs(attempts) / 1000));
    return shedError(() => new PoolUnavailableError(`no worker could start (${attempts} failed tries in a row); retrying`, retryAfter));
  }

  /** Stops every worker now and every pending restart. */
  async terminate(): Promise<void> {
    this.closing = true;
    this.reserved.length = 0;
    this.compiled?.dispose();
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    await Promise.all(this.workers.map((w) => w?.worker.terminate()));
  }

  private spawn(slot: number, loader = this.loader): Promise<void> {
    this.starting++;
    const compiled = this.compiled && { entryUrl: this.compiled.entryUrl, sources: this.compiled.sources, preload: this.compiled.preload };
    const options = { ...this.spawnOptions(), loader: this.loaders[loader]!, compiled };
    const { state, started } = spawnWorker(slot, options, {
      ready: (worker) => {
        worker.startedUp = true;
        // A cheaper way failed and this one worked: later workers start this way at once.
        if (worker.loader > this.loader) this.loader = worker.loader;
        this.starting--;
        this.failedStarts.delete(worker.slot);
        if (worker.slot > this.coreSize) this.growthFailures = 0;
        this.events.ready(worker);
      },
      results: (worker, results) => this.events.results(worker, results),
      exit: (worker, exitCode, error, wasReady) => this.onExit(worker, exitCode, error, wasReady),
    });
    this.workers[slot - 1] = state;
    state.loader = loader;
    return started.catch((error) => this.fallBack(state, error) ?? Promise.reject(error));
  }

  /**
   * A worker could not load the app the cheap way: a compiled copy or Node's type stripping does
   * not load every app that tsx does (a dynamic import of a computed path, an enum natively).
   * The slot starts again at once the next way; once a worker started so, every later worker
   * does too. An app that cannot load at all fails its last way too, with that error. Called on
   * its failed start and on its exit, whichever comes first; returns the new start, or
   * undefined if it has no next way.
   */
  private fallBack(worker: WorkerState, error: Error | undefined): Promise<void> | undefined {
    if (worker.fallback || worker.startedUp || worker.loader >= this.loaders.length - 1 || this.closing) return worker.fallback;
    // A JavaScript app needs a loader only to import TypeScript (unknown to Node 20; stripped by
    // Node 22.6+ but for what stripping cannot do, an enum); any other failure is the app's own.
    if (this.loaders[worker.loader] === "plain" && !typeScriptImportFailed(error)) return undefined;
    worker.fallback = this.spawn(worker.slot, worker.loader + 1);
    return worker.fallback;
  }

  private onExit(worker: WorkerState, exitCode: number, error: Error | undefined, wasReady: boolean): void {
    if (!worker.startedUp) this.starting--;
    if (worker.retired || this.fallBack(worker, error)) return;
    const core = worker.slot <= this.coreSize;
    this.events.died(worker, exitCode, error, core && !this.closing);
    if (this.closing) return;
    if (!core) {
      this.vacate(worker);
      if (!wasReady && !worker.stoppedForTimeout) this.growthFailed();
    } else if (wasReady || worker.stoppedForTimeout) {
      // A replacement takes the same slot; if it fails to start, this sees it and backs off.
      this.spawn(worker.slot).catch(() => {});
    } else {
      this.startFailed(worker.slot, error ?? new Error(`exit code ${exitCode}`));
    }
  }

  /** A core slot tries again after a backoff, forever; while no worker is ready, tasks are refused at once. */
  private startFailed(slot: number, error: Error): void {
    const attempt = (this.failedStarts.get(slot) ?? 0) + 1;
    this.failedStarts.set(slot, attempt);
    const retryInMs = backoffMs(attempt);
    this.options.onRestartFailed?.({ slot, attempt, retryInMs, error });
    if (!this.available) this.events.unavailable(this.unavailableError());
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (!this.closing) this.spawn(slot).catch(() => {});
    }, retryInMs);
    this.restartTimers.add(timer);
  }

  /** A growth worker could not start: growth waits a backoff before it tries again. */
  private growthFailed(): void {
    // The ones not created yet are given up too: growth starts them again if work still waits.
    this.occupied -= this.reserved.length;
    this.starting -= this.reserved.length;
    this.reserved.length = 0;
    this.growthFailures++;
    this.growthPausedUntil = performance.now() + backoffMs(this.growthFailures);
  }

  private vacate(worker: WorkerState): void {
    if (this.workers[worker.slot - 1] !== worker) return;
    this.workers[worker.slot - 1] = undefined;
    this.occupied--;
  }
}

/** Whether a worker failed for want of a TypeScript loader, on any Node version. */
function typeScriptImportFailed(error: Error | undefined): boolean {
  return /ERR_UNKNOWN_FILE_EXTENSION|Unknown file extension|ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX|ERR_INVALID_TYPESCRIPT_SYNTAX|strip-only mode/.test(
    `${error?.message}\n${error?.stack}`,
  );
}
