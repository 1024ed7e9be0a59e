import { createRequire } from "node:module";
import type FindMyWay from "find-my-way";
import { blockingSignature, runBlocking } from "../threads/offload.js";
import { sharedStateSignature } from "../threads/shared-state.js";
import { contextSignature, runInContext } from "../threads/context-var.js";
import { TaskKind, type TaskHost } from "../pool/protocol.js";
import { createdApps, hostKey, workerSlot } from "../pool/identity.js";
import { callerModuleUrl } from "../pool/caller-module.js";
import { dependencyOrder, type Dependency } from "../deps/dependency.js";
import { ErrorHandlers, type ErrorClass, type ErrorHandler } from "./error-handlers.js";
import { invokePooledDependency, invokeRoute } from "./invoke.js";
import type { HttpRequest } from "../http/request.js";
import { Router, handlerLane, httpMethods, type HttpMethod, type Route, type RouteDefinition } from "./router.js";

/** What /openapi.json and /docs say and where they are served. */
export interface DocsOptions {
  title?: string;
  version?: string;
  description?: string;
  /** Where the OpenAPI document is served (default "/openapi.json"); null serves neither it nor /docs. */
  openapiUrl?: string | null;
  /** Where Swagger UI is served (default "/docs"); null turns it off. */
  docsUrl?: string | null;
}

export interface AppOptions extends DocsOptions {
  /** Dependencies every route runs (for their effect, e.g. an auth check). */
  dependencies?: Dependency<any>[];
}

export type RouteMatch =
  | { kind: "route"; route: Route; params: Record<string, string> }
  | { kind: "not-found" }
  | { kind: "method-not-allowed"; allow: string[] }
  | { kind: "bad-path" };

/**
 * A Loopwise application: the route table, shared by the main thread and every worker.
 *
 *     export const app = new App();
 *     app.get("/async/hello", async () => ({ message: "hello" }));   // event loop
 *     app.get("/sync/hello", () => ({ message: "hello" }));          // worker pool
 */
export class App extends Router {
  /** Every route in registration order; a route's id is its index. */
  readonly routes: Route[] = [];
  /** The module that created the app; each worker imports it to find the same routes. */
  readonly moduleUrl: string | undefined;
  /** Which of the apps created by that module this is (most modules create one). */
  readonly appIndex: number;
  /** Lifespan hooks, run in registration order. */
  readonly hooks = {
    startup: [] as (() => unknown)[],
    shutdown: [] as (() => unknown)[],
    workerStart: [] as ((worker: { slot: number }) => unknown)[],
  };
  /** Exception handlers by error class, shared by every route (and so by every worker). */
  readonly errors = new ErrorHandlers();
  /** Every dependency any route uses, by id (first seen while registering routes, the same in every thread). */
  readonly dependencyTable: Dependency[] = [];
  readonly dependencyIds = new Map<Dependency, number>();
  /** Documentation settings: title, version, and where /openapi.json and /docs are served (null: not served). */
  readonly docsOptions: DocsOptions;
  /**
   * Matches requests to routes: the main thread's job alone. A worker runs routes by id and never
   * matches, so it never loads find-my-way (a quarter of what a worker spent importing the app).
   */
  private router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1> | undefined;

  constructor(options: AppOptions = {}) {
    super({ dependencies: options.dependencies });
    this.docsOptions = options;
    this.moduleUrl = callerModuleUrl();
    const created = createdApps<App>();
    this.appIndex = created.filter((app) => app.moduleUrl === this.moduleUrl).length;
    created.push(this);
  }

  protected override add(definition: RouteDefinition): void {
    super.add(definition);
    const plan = dependencyOrder([...definition.effects, ...Object.values(definition.deps)]);
    for (const dep of plan) {
      if (handlerLane(definition) === "loop" && dep.lane === "worker" && dep.hasCleanup) {
        throw new TypeError(
          `${definition.method} ${definition.path}: dependency ${dep.name} is a plain generator (it cleans up) but the route runs on the loop, ` +
            "so it would run on the pool and its cleanup could not follow its value; make it an async generator, or make the route plain",
        );
      }
      if (!this.dependencyIds.has(dep)) {
        this.dependencyIds.set(dep, this.dependencyTable.length);
        this.dependencyTable.push(dep);
      }
    }
    const route: Route = { ...definition, id: this.routes.length, plan, errors: this.errors };
    if (workerSlot() === undefined) this.matcher().on(route.method, route.path, () => {}, route);
    this.routes.push(route);
  }

  /**
   * Answers errors of `errorClass` (and its subclasses) with the app's own response, on the lane
   * where they were raised. Override `RequestValidationError` to change the 422, `HTTPError` for
   * every HTTP error. Register at a module's top level, so every worker has it too.
   */
  exceptionHandler<E>(errorClass: ErrorClass<E>, handler: ErrorHandler<E>): this {
    this.errors.add(errorClass, handler);
    return this;
  }

  /** Runs on the main thread before the server accepts requests (after the pool is ready). */
  onStartup(hook: () => unknown): this {
    this.hooks.startup.push(hook);
    return this;
  }

  /** Runs on the main thread during shutdown, after in-flight requests have finished. */
  onShutdown(hook: () => unknown): this {
    this.hooks.shutdown.push(hook);
    return this;
  }

  /**
   * Runs inside each pool worker after it imported the app and before it takes requests:
   * the place to open a per-worker resource such as a database connection.
   */
  onWorkerStart(hook: (worker: { slot: number }) => unknown): this {
    this.hooks.workerStart.push(hook);
    return this;
  }

  private matcher(): FindMyWay.Instance<FindMyWay.HTTPVersion.V1> {
    if (!this.router) {
      const make = createRequire(import.meta.url)("find-my-way") as typeof FindMyWay;
      this.router = make({ caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false });
    }
    return this.router;
  }

  /** Finds the route for a request path (without its query string). */
  match(method: string, path: string): RouteMatch {
    const router = this.matcher();
    let found: ReturnType<typeof router.find>;
    try {
      found = router.find(method as HttpMethod, path);
      if (!found && method === "HEAD") found = router.find("GET", path);
    } catch {
      return { kind: "bad-path" };
    }
    if (found) return { kind: "route", route: found.store as Route, params: found.params as Record<string, string> };
    if (!decodable(path)) return { kind: "bad-path" };
    const allow = httpMethods.filter((m) => m !== method && router.find(m, path));
    if (allow.includes("GET") && !allow.includes("HEAD")) allow.push("HEAD");
    return allow.length > 0 ? { kind: "method-not-allowed", allow } : { kind: "not-found" };
  }

  /** One line per route, blocking function and piece of shared memory, compared with each worker's at start. */
  signature(): string[] {
    return [
      ...this.routes.map((r) => `route ${r.id} ${r.method} ${r.path} ${r.lane}`),
      ...this.dependencyTable.map((d, id) => `dependency ${id} ${d.name} ${d.lane}`),
      ...blockingSignature(),
      ...sharedStateSignature(),
      ...contextSignature(),
    ];
  }

  /** What a worker runs: the routes' handlers and the registered blocking functions. */
  [hostKey](): TaskHost {
    return {
      signature: () => this.signature(),
      start: async (slot) => {
        for (const hook of this.hooks.workerStart) await hook({ slot });
      },
      // The caller's context variables are set around the task (and nothing else is).
      run: (kind, target, payload, signal, context) =>
        runInContext(context as Record<string, unknown> | undefined, () => this.runTask(kind, target, payload, signal)),
    };
  }

  private runTask(kind: TaskKind, target: number | string, payload: unknown, signal: AbortSignal | undefined): unknown {
    if (kind === TaskKind.Blocking) return runBlocking(target as string, payload as unknown[]);
    if (kind === TaskKind.Dependency) {
      // A plain dependency of a loop-lane route: its value goes back to the main thread.
      const dep = this.dependencyTable[target as number];
      if (!dep) throw new Error(`no dependency with id ${target} in this worker`);
      const { req, deps } = payload as { req: HttpRequest; deps: Record<string, unknown> };
      return invokePooledDependency(dep, withSignal(req, signal), deps, this.errors);
    }
    const route = this.routes[target as number];
    if (!route) throw new Error(`no route with id ${target} in this worker`);
    return invokeRoute(route, withSignal(payload as HttpRequest, signal));
  }
}

/** A request that crossed to a worker lost its signal on the way (it cannot be cloned): the task's own takes its place. */
function withSignal(req: HttpRequest, signal: AbortSignal | undefined): HttpRequest {
  Object.defineProperty(req, "signal", { value: signal ?? neverAborted, enumerable: false });
  return req;
}

const neverAborted = new AbortController().signal;

/** Whether every %-escape in the path decodes (the router gives no match for one that does not). */
function decodable(path: string): boolean {
  if (!path.includes("%")) return true;
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}
