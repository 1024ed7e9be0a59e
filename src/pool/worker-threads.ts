// The pool's threads: how workers load the app (a compiled copy, Node's type stripping, tsx),
// starting one in a slot (falling back to the next way when the cheap one cannot load the app),
// and ending them. Which slots have a worker and why is the policy's (policy/policy.ts); this
// only carries out its starts and retirements and reports what the threads did.
import { compileApp, type CompiledApp } from "./compile-app.js";
import { flagsWithoutTsx, isTypeScript, nodeStripsTypes, type ModuleLoader } from "./module-loader.js";
import type { PoolOptions } from "./pool-options.js";
import type { TaskResult } from "./protocol.js";
import { spawnWorker, type SpawnOptions } from "./spawn-worker.js";
import type { WorkerState } from "./worker-state.js";

export interface ThreadEvents {
  ready(worker: WorkerState): void;
  results(worker: WorkerState, results: TaskResult[]): void;
  /** A worker is gone for good (a retired one, or one whose start falls back to the next way, is not reported). */
  exited(worker: WorkerState, exitCode: number, error: Error | undefined, wasReady: boolean): void;
}

export class WorkerThreads {
  /** By slot - 1. */
  private readonly threads: (WorkerState | undefined)[] = [];
  /** Starts waiting for a turn of the event loop of their own (see start). */
  private readonly paced: number[] = [];
  private paceScheduled = false;
  private closing = false;
  /** The ways workers may load the app, cheapest first (see ModuleLoader), and the one new workers use. */
  private loaders: ModuleLoader[] = ["tsx"];
  private loader = 0;
  private compiled: CompiledApp | undefined;

  constructor(
    /** Made for each start: shared memory registered since is handed on too. */
    private readonly spawnOptions: () => Omit<SpawnOptions, "loader" | "compiled">,
    private readonly events: ThreadEvents,
    private readonly options: Pick<PoolOptions, "loaders">,
  ) {}

  get all(): readonly (WorkerState | undefined)[] {
    return this.threads;
  }

  of(slot: number): WorkerState | undefined {
    return this.threads[slot - 1];
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

  /**
   * Starts a worker in `slot`; resolves once it loaded the app. A paced start (growth) is made
   * on a turn of the event loop of its own: creating 36 workers in one turn held the loop for a
   * third of a second.
   */
  start(slot: number, paced: boolean): Promise<void> | undefined {
    if (this.closing) return undefined;
    if (!paced) return this.spawn(slot);
    this.paced.push(slot);
    this.schedulePaced();
    return undefined;
  }

  private schedulePaced(): void {
    if (this.paceScheduled || this.paced.length === 0) return;
    this.paceScheduled = true;
    setImmediate(() => {
      this.paceScheduled = false;
      const slot = this.paced.shift();
      if (slot !== undefined && !this.closing) this.spawn(slot).catch(() => {});
      this.schedulePaced();
    });
  }

  /** Ends idle workers on purpose: not a crash, nothing is reported. */
  retire(slots: readonly number[]): void {
    for (const slot of slots) {
      const worker = this.threads[slot - 1];
      if (!worker) continue;
      worker.retired = true;
      worker.ready = false;
      this.threads[slot - 1] = undefined;
      void worker.worker.terminate();
    }
  }

  /** Stops every worker now. */
  async terminate(): Promise<void> {
    this.closing = true;
    this.paced.length = 0;
    this.compiled?.dispose();
    await Promise.all(this.threads.map((w) => w?.worker.terminate()));
  }

  private spawn(slot: number, loader = this.loader): Promise<void> {
    const compiled = this.compiled && { entryUrl: this.compiled.entryUrl, sources: this.compiled.sources, preload: this.compiled.preload };
    const options = { ...this.spawnOptions(), loader: this.loaders[loader]!, compiled };
    const { state, started } = spawnWorker(slot, options, {
      ready: (worker) => {
        worker.startedUp = true;
        // A cheaper way failed and this one worked: later workers start this way at once.
        if (worker.loader > this.loader) this.loader = worker.loader;
        this.events.ready(worker);
      },
      results: (worker, results) => this.events.results(worker, results),
      exit: (worker, exitCode, error, wasReady) => this.onExit(worker, exitCode, error, wasReady),
    });
    this.threads[slot - 1] = state;
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
    if (worker.retired || this.fallBack(worker, error)) return;
    if (this.threads[worker.slot - 1] === worker) this.threads[worker.slot - 1] = undefined;
    this.events.exited(worker, exitCode, error, wasReady);
  }
}

/** Whether a worker failed for want of a TypeScript loader, on any Node version. */
function typeScriptImportFailed(error: Error | undefined): boolean {
  return /ERR_UNKNOWN_FILE_EXTENSION|Unknown file extension|ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX|ERR_INVALID_TYPESCRIPT_SYNTAX|strip-only mode/.test(
    `${error?.message}\n${error?.stack}`,
  );
}
