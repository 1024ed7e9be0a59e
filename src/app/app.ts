import { createRequire } from "node:module";
import type FindMyWay from "find-my-way";
import { blockingSignature } from "../threads/offload.js";
import { sharedStateSignature } from "../threads/shared-state.js";
import { contextSignature } from "../threads/context-var.js";
import { describeValue, type TaskHost } from "../pool/protocol.js";
import { createdApps, hostKey, inheritedBuffer, workerSlot } from "../pool/identity.js";
import { callerModuleUrl } from "../pool/caller-module.js";
import { dependencySteps, type Dependency, type PlanStep } from "../deps/dependency.js";
import { OverrideChannel, overridesBufferKey } from "../deps/override-channel.js";
import { DependencyOverrides } from "../deps/overrides.js";
import { adoptSpec, checkSteps, overrideSpec, rootsOf } from "./dependency-overrides.js";
import { ErrorHandlers, type ErrorClass, type ErrorHandler } from "./error-handlers.js";
import { workerHost } from "../lanes/host.js";
import { Router, httpMethods, type HttpMethod, type Route, type RouteDefinition } from "./router.js";
import { webSocketLane, type WebSocketRoute, type WebSocketRouteDefinition } from "./websocket-route.js";
import type { Middleware } from "./middleware.js";
import { afterMount, mountedRoute, mountedWebSocketRoute, mountPrefix, staticRoutes } from "./mount.js";
import { fetchHandlerOf, fetchRoutes, type FetchHandler, type FetchMountOptions } from "./fetch-mount.js";
import { recordHookSite, runLifespanHooks } from "./lifespan-hooks.js";
import { checkRouteDeclaration } from "./route-checks.js";
import type { WithMounted } from "./route-types.js";
import { StaticFiles } from "./static-files.js";
import { checkDocumentMetadata, type DocumentMetadata } from "./document-info.js";

/** What /openapi.json and /docs say and where they are served. */
export interface DocsOptions extends DocumentMetadata {
  /** Where the OpenAPI document is served (default "/openapi.json"); null serves neither it nor /docs. */
  openapiUrl?: string | null;
  /** Where Swagger UI is served (default "/docs"); null turns it off. */
  docsUrl?: string | null;
  /** Where ReDoc is served (default "/redoc"); null turns it off. */
  redocUrl?: string | null;
}

export interface AppOptions extends DocsOptions {
  /** Dependencies every route runs (for their effect, e.g. an auth check). */
  dependencies?: Dependency<any>[];
  /**
   * A request whose path reaches a route only with or without its trailing slash is redirected
   * there (307, the method and body kept), as FastAPI's `redirect_slashes`. Default true.
   */
  redirectSlashes?: boolean;
}

export type RouteMatch =
  | { kind: "route"; route: Route; params: Record<string, string> }
  | { kind: "not-found" }
  | { kind: "method-not-allowed"; allow: string[] }
  | { kind: "bad-path" };

export type WebSocketMatch = { kind: "route"; route: WebSocketRoute; params: Record<string, string> } | { kind: "not-found" } | { kind: "bad-path" };

/**
 * A Loopwise application: the route table, shared by the main thread and every worker.
 *
 *     export const app = new App();
 *     app.get("/async/hello", async () => ({ message: "hello" }));   // event loop
 *     app.get("/sync/hello", () => ({ message: "hello" }));          // worker pool
 */
export class App extends Router<""> {
  /** Every route in registration order; a route's id is its index. */
  readonly routes: Route[] = [];
  /** Every WebSocket route in registration order; its id is its index here. */
  readonly websocketRoutes: WebSocketRoute[] = [];
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
  /** Whether a path that reaches a route only with or without its trailing slash is redirected there (307). */
  readonly redirectSlashes: boolean;
  /** Documentation settings: title, version, and where /openapi.json and /docs are served (null: not served). */
  readonly docsOptions: DocsOptions;
  /** The apps mounted in this one, with their prefixes (their docs are served under them). */
  readonly mounts: { prefix: string; app: App }[] = [];
  /** Where this app is mounted in another one, once it is. */
  private mountedAt: string | undefined;
  /**
   * Replacements for dependencies (FastAPI's `app.dependency_overrides`), for tests and local
   * development: `set(dep, replacement)`, `delete(dep)`, `clear()`. They apply on both lanes,
   * in the workers too, from the next request on.
   */
  readonly dependencyOverrides: DependencyOverrides = new DependencyOverrides((next) => this.overridesChanged(next));
  /** How the workers learn the overrides (made on first use). */
  private overrideChannel: OverrideChannel | undefined;
  /**
   * Matches requests to routes: the main thread's job alone. A worker runs routes by id and never
   * matches, so it never loads find-my-way (a quarter of what a worker spent importing the app).
   */
  private router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1> | undefined;
  /** WebSocket routes have a table of their own: a path may have both a GET route and a WebSocket route. */
  private websocketRouter: FindMyWay.Instance<FindMyWay.HTTPVersion.V1> | undefined;

  constructor(options: AppOptions = {}) {
    super({ dependencies: options.dependencies });
    checkDocumentMetadata(options);
    if (options.redirectSlashes !== undefined && typeof options.redirectSlashes !== "boolean") {
      throw new TypeError(`redirectSlashes must be true or false, got ${JSON.stringify(options.redirectSlashes)}`);
    }
    this.redirectSlashes = options.redirectSlashes ?? true;
    this.docsOptions = options;
    this.moduleUrl = callerModuleUrl();
    const created = createdApps<App>();
    this.appIndex = created.filter((app) => app.moduleUrl === this.moduleUrl).length;
    created.push(this);
  }

  protected override add(definition: RouteDefinition): void {
    if (this.mountedAt !== undefined) throw afterMount(this.mountedAt, `${definition.method} ${definition.path}`);
    checkRouteDeclaration(definition);
    super.add(definition);
    const declared = dependencySteps(rootsOf(definition));
    checkSteps(definition, declared);
    const overrides = this.dependencyOverrides.current;
    const steps = overrides.size === 0 ? declared : dependencySteps(rootsOf(definition), overrides);
    if (steps !== declared) checkSteps(definition, steps);
    const plan = this.registerDependencies(declared.map((step) => step.slot));
    const route: Route = { ...definition, id: this.routes.length, plan, steps, errors: definition.errors ?? this.errors };
    if (workerSlot() === undefined) this.matcher().on(route.method, route.path, () => {}, route);
    this.routes.push(route);
    // Overrides set before this route: what the workers need may have grown.
    if (overrides.size > 0 && workerSlot() === undefined) this.overridesChanged(overrides);
  }

  protected override addWebSocket(definition: WebSocketRouteDefinition): void {
    if (this.mountedAt !== undefined) throw afterMount(this.mountedAt, `WEBSOCKET ${definition.path}`);
    super.addWebSocket(definition);
    const shape = { method: "WEBSOCKET" as HttpMethod, path: definition.path, lane: webSocketLane };
    const declared = dependencySteps(rootsOf(definition));
    checkSteps(shape, declared);
    const overrides = this.dependencyOverrides.current;
    const steps = overrides.size === 0 ? declared : dependencySteps(rootsOf(definition), overrides);
    if (steps !== declared) checkSteps(shape, steps);
    const plan = this.registerDependencies(declared.map((step) => step.slot));
    const route: WebSocketRoute = { ...definition, id: this.websocketRoutes.length, plan, steps, errors: definition.errors ?? this.errors };
    // Workers never hold a connection: they keep the route (for its dependencies' ids) but no matcher.
    if (workerSlot() === undefined) (this.websocketRouter ??= makeMatcher()).on("GET", route.path, () => {}, route);
    this.websocketRoutes.push(route);
  }

  /** Gives each dependency of a plan its id in the app's dependency table (the same in every thread). */
  private registerDependencies(plan: Dependency[]): Dependency[] {
    for (const dep of plan) {
      if (!this.dependencyIds.has(dep)) {
        this.dependencyIds.set(dep, this.dependencyTable.length);
        this.dependencyTable.push(dep);
      }
    }
    return plan;
  }

  /** The shared memory through which this app's workers learn its dependency overrides. */
  get overridesBuffer(): SharedArrayBuffer {
    return this.channel().buffer;
  }

  private channel(): OverrideChannel {
    this.overrideChannel ??= new OverrideChannel(workerSlot() === undefined ? undefined : inheritedBuffer(overridesBufferKey));
    return this.overrideChannel;
  }

  /** Re-plans every route with `next` (or refuses it, throwing), and tells the workers from the main thread. */
  private overridesChanged(next: ReadonlyMap<Dependency, Dependency>): void {
    const steps: PlanStep[][] = this.routes.map((route) => {
      let planned: PlanStep[];
      try {
        planned = dependencySteps(rootsOf(route), next);
      } catch (error) {
        throw new TypeError(`dependencyOverrides: ${(error as Error).message} (a replacement cannot need the dependency it replaces)`);
      }
      checkSteps(route, planned);
      return planned;
    });
    if (workerSlot() === undefined) this.channel().publish(overrideSpec(this.routes, steps, next, this.dependencyIds));
    this.routes.forEach((route, i) => {
      route.steps = steps[i]!;
    });
    // WebSocket routes run their dependencies from the main thread, which has the overrides at hand.
    for (const route of this.websocketRoutes) route.steps = dependencySteps(rootsOf(route), next);
  }

  /** In a worker: applies the main thread's overrides, if they changed since the last task. */
  private async syncOverrides(): Promise<void> {
    const channel = this.channel();
    const spec = channel.take();
    if (!spec) return;
    try {
      this.dependencyOverrides.replaceAll(await adoptSpec(spec));
    } catch (error) {
      // Never serve on with the old overrides as if they were the new ones: each task fails until they apply.
      channel.forget();
      throw error;
    }
  }

  override use(...middleware: Middleware[]): this {
    if (this.mountedAt !== undefined) throw afterMount(this.mountedAt, "middleware");
    return super.use(...middleware);
  }

  /**
   * Serves another app's routes under `prefix` (each with the other app's middleware, as a
   * router's, and its exception handlers; its WebSocket routes; its docs under the prefix; its
   * lifespan hooks with this app's), or a directory's files (`staticFiles(...)`). Mount an app
   * once its routes and middleware are registered: what it gets after is refused. This app's
   * dependency overrides reach the mounted routes, since this app serves them.
   *
   *     app.mount("/v1", v1);
   *     app.mount("/static", staticFiles("public"));
   *     app.mount("/hono", honoApp.fetch);           // any Fetch-API handler: Hono, GraphQL Yoga, tRPC...
   */
  mount<P extends string, T extends App | StaticFiles | FetchHandler | { fetch: FetchHandler }>(
    prefix: P,
    target: T,
    options?: FetchMountOptions,
  ): WithMounted<this, P, T> {
    const at = mountPrefix(prefix);
    if (target instanceof StaticFiles) {
      for (const definition of staticRoutes(at, target)) this.add(definition);
      return this as WithMounted<this, P, T>;
    }
    const fetchHandler = target instanceof App ? undefined : fetchHandlerOf(target);
    if (fetchHandler) {
      for (const definition of fetchRoutes(at, fetchHandler, options)) this.add(definition);
      return this as WithMounted<this, P, T>;
    }
    if (!(target instanceof App)) {
      throw new TypeError(
        `mount() takes an App, staticFiles(...) or a Fetch handler ((request) => Response, or an object with fetch()), got ${describeValue(target)}`,
      );
    }
    if ((target as App) === this) throw new TypeError("an app cannot be mounted in itself");
    if (target.mountedAt !== undefined) throw new Error(`this app is mounted already, at "${target.mountedAt || "/"}": an app is mounted once`);
    for (const definition of target.definitions) this.add(mountedRoute(definition, at, target.middleware, target.errors));
    for (const definition of target.websocketDefinitions) this.addWebSocket(mountedWebSocketRoute(definition, at, target.errors));
    target.mountedAt = at;
    this.mounts.push({ prefix: at, app: target });
    this.hooks.startup.push(() => runLifespanHooks("onStartup", target.hooks.startup, undefined));
    this.hooks.shutdown.push(() => runLifespanHooks("onShutdown", target.hooks.shutdown, undefined));
    this.hooks.workerStart.push((worker) => runLifespanHooks("onWorkerStart", target.hooks.workerStart, worker));
    return this as WithMounted<this, P, T>;
  }

  /**
   * Answers errors of `errorClass` (and its subclasses) with the app's own response, on the lane
   * where they were raised. Override `RequestValidationError` to change the 422, `HttpError` for
   * every HTTP error. Register at a module's top level, so every worker has it too.
   */
  exceptionHandler<E>(errorClass: ErrorClass<E>, handler: ErrorHandler<E>): this {
    this.errors.add(errorClass, handler);
    return this;
  }

  /**
   * Runs on the main thread before anything else, as FastAPI's startup: before any worker starts
   * (and runs its `onWorkerStart`), so the workers find what it set up (tables, files).
   */
  onStartup(hook: () => unknown): this {
    recordHookSite(hook, this.onStartup);
    this.hooks.startup.push(hook);
    return this;
  }

  /** Runs on the main thread during shutdown, after in-flight requests have finished. */
  onShutdown(hook: () => unknown): this {
    recordHookSite(hook, this.onShutdown);
    this.hooks.shutdown.push(hook);
    return this;
  }

  /**
   * Runs inside each pool worker after it imported the app and before it takes requests:
   * the place to open a per-worker resource such as a database connection. The app's
   * `onStartup` hooks have finished by then.
   */
  onWorkerStart(hook: (worker: { slot: number }) => unknown): this {
    recordHookSite(hook, this.onWorkerStart);
    this.hooks.workerStart.push(hook);
    return this;
  }

  private matcher(): FindMyWay.Instance<FindMyWay.HTTPVersion.V1> {
    return (this.router ??= makeMatcher());
  }

  /** Finds the WebSocket route for a handshake's path (without its query string). */
  matchWebSocket(path: string): WebSocketMatch {
    let found: ReturnType<FindMyWay.Instance<FindMyWay.HTTPVersion.V1>["find"]> = null;
    try {
      found = this.websocketRouter?.find("GET", path) ?? null;
    } catch {
      return { kind: "bad-path" };
    }
    if (found) return { kind: "route", route: found.store as WebSocketRoute, params: found.params as Record<string, string> };
    return decodable(path) ? { kind: "not-found" } : { kind: "bad-path" };
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
      ...this.websocketRoutes.map((r) => `websocket ${r.id} ${r.path}`),
      ...this.dependencyTable.map((d, id) => `dependency ${id} ${d.name} ${d.lane}`),
      ...blockingSignature(),
      ...sharedStateSignature(),
      ...contextSignature(),
    ];
  }

  /** What a worker runs: the routes' handlers, their dependencies and the registered blocking functions (src/lanes/host.ts). */
  [hostKey](): TaskHost {
    return workerHost({
      routes: this.routes,
      dependencyTable: this.dependencyTable,
      errors: this.errors,
      signature: () => this.signature(),
      start: async (slot) => {
        await this.syncOverrides();
        await runLifespanHooks("onWorkerStart", this.hooks.workerStart, { slot });
      },
      overridesChanged: () => (this.overrideChannel?.changed ? this.syncOverrides() : undefined),
    });
  }
}

function makeMatcher(): FindMyWay.Instance<FindMyWay.HTTPVersion.V1> {
  const make = createRequire(import.meta.url)("find-my-way") as typeof FindMyWay;
  return make({ caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false });
}

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
