import { isDependency, type Dependency, type DependencyMap, type DependencyValues, type PlanStep } from "../deps/dependency.js";
import { Bulkhead } from "../threads/bulkhead.js";
import { laneOf, type Lane } from "../threads/lane.js";
import { planInputs, type InputPlan, type InputSchemas } from "../params/input-plan.js";
import { defaultFormLimits, resolveFormLimits, type FormLimits, type ResolvedFormLimits } from "../params/form-limits.js";
import type { UploadFile } from "../params/upload-file.js";
import { isStandardSchema, type StandardSchemaV1 } from "../params/standard-schema.js";
import type { ErrorHandlers } from "./error-handlers.js";
import { checkMiddleware, type Middleware } from "./middleware.js";
import { streamsFromWorker } from "../lanes/stream.js";
import type { PathParams } from "../http/path-params.js";
import type { Headers, HttpRequest, Query } from "../http/request.js";
import type { OutgoingResponse } from "../http/response.js";
import { defineWebSocketRoute, type WebSocketMethod, type WebSocketRouteDefinition, type WebSocketRouteOptions } from "./websocket-route.js";

export const httpMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
export type HttpMethod = (typeof httpMethods)[number];

export type Handler<Path extends string = string> = (req: HttpRequest<PathParams<Path>>, deps: {}) => unknown;

/** How a route appears in the OpenAPI document. */
export interface RouteDocs {
  /** Groups in /docs. A router's tags are added to its routes'. */
  tags?: string[];
  summary?: string;
  description?: string;
  /** Unique id of the operation; default: derived from the name, method and path. */
  operationId?: string;
  deprecated?: boolean;
  /** false leaves the route out of /openapi.json (it is still served). */
  includeInSchema?: boolean;
}

/**
 * Where a route's handler runs: the event loop, the worker pool, or (`"queue"`) a separate
 * `loopwise worker` process reached through Redis, which runs it by the lane rule there.
 */
export type RouteLane = Lane | "queue";

export interface RouteOptions extends InputSchemas, RouteDocs {
  /**
   * Override the lane rule (async → loop, plain → worker) for this route, or `"queue"`: the
   * handler runs on a `loopwise worker` process (the server needs `--redis`); the server awaits
   * its answer within the route's timeout (default 30 s for this lane).
   */
  lane?: RouteLane;
  /** Status for plain return values (FastAPI's `status_code`), 200 to 599; default 200. */
  // The two bodiless statuses as literals: a handler of such a route is typed to return no body.
  status?: 204 | 304 | (number & {});
  /** A name for logs and docs; defaults to the handler's function name (empty for an anonymous one). */
  name?: string;
  /**
   * Answer 504 if the handler has not finished after this many ms (default: the server's
   * `timeout`, off unless set). A worker-lane handler is stopped: its worker is terminated and
   * replaced. A loop-lane handler cannot be stopped; it keeps running after the 504.
   */
  timeout?: number;
  /**
   * Media types of the request body this route takes, e.g. `["application/json"]`; a body of
   * any other type is refused with 415. Default: any type (the body is parsed by its type).
   */
  accepts?: string[];
  /**
   * How large a form this route takes: file size, file and field counts, the text fields' total,
   * and when a file is spooled to disk. Past a limit the request gets a 413. Default: 10 MiB
   * files, 10 of them, 1000 fields, 1 MiB of text, spooled above 1 MiB.
   */
  formLimits?: FormLimits;
  /** At most this many requests of this route run at once; the rest wait their turn (a private bulkhead). */
  concurrency?: number;
  /** A bulkhead shared with other routes: together they run at most `bulkhead.limit` requests at once. */
  bulkhead?: Bulkhead;
  /** Validates (and strips, with Zod's default objects) what the handler returns; a mismatch is a logged 500. */
  response?: StandardSchemaV1;
  /** Named dependencies: their values are the handler's second argument. */
  deps?: DependencyMap;
  /** Dependencies that run for their effect only (an auth check); values are not passed. */
  dependencies?: Dependency<any>[];
}

type Out<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : never;

/** A file field (`z.file()`) arrives as an UploadFile, which is a File with a path and more. */
type AsUpload<V> = V extends File ? UploadFile : V extends readonly File[] ? UploadFile[] : V;
type HasFile<B> = true extends { [K in keyof B]-?: NonNullable<B[K]> extends File | readonly File[] ? true : false }[keyof B] ? true : false;
/** The body a handler receives: the schema's output, with its file fields typed as uploads. */
type BodyOf<B> = B extends object ? (HasFile<B> extends true ? { [K in keyof B]: AsUpload<B[K]> } : B) : B;
type MaybePromise<T> = T | Promise<T>;

/** The request a handler of `path` declared with `options` receives: typed from the schemas given. */
export type RequestFor<Path extends string, O> = HttpRequest<
  O extends { params: StandardSchemaV1 } ? Out<O["params"]> : PathParams<Path>,
  O extends { query: StandardSchemaV1 } ? Out<O["query"]> : Query,
  O extends { body: StandardSchemaV1 } ? BodyOf<Out<O["body"]>> : unknown,
  O extends { headers: StandardSchemaV1 } ? Headers & Out<O["headers"]> : Headers,
  O extends { cookies: StandardSchemaV1 } ? Out<O["cookies"]> : Record<string, string>
>;

/** A route answering 204 or 304 sends no body: nothing, or a ready-made response. */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler with no return statement returns void.
type NoBody = void | undefined | null | OutgoingResponse | Response;

/** What such a handler may return: anything, or what the `response` schema takes (or a ready-made response). */
export type ReturnFor<O> = O extends { status: 204 | 304 }
  ? MaybePromise<NoBody>
  : O extends { response: StandardSchemaV1 }
    ? MaybePromise<StandardSchemaV1.InferInput<O["response"]> | OutgoingResponse | Response | Uint8Array>
    : unknown;

export type DepsFor<O> = O extends { deps: DependencyMap } ? DependencyValues<O["deps"]> : {};

export type HandlerFor<Path extends string, O> = (req: RequestFor<Path, O>, deps: DepsFor<O>) => ReturnFor<O>;

/**
 * What the types check of a route's options against its path, as the app checks it at
 * registration: each `params` key is a parameter of the path, and a 204 or 304 route declares no
 * `response` body. A mistake turns the option's type into a sentence saying what is wrong. Keys
 * are checked on an app's own routes only: a router's prefix may hold parameters its type does not know.
 */
export type CheckedOptions<Path extends string, O, Self> = ParamsInPath<Path, O, Self> & NoBodyDeclared<O>;

type ParamsInPath<Path extends string, O, Self> = Self extends { readonly routes: readonly unknown[] }
  ? O extends { params: StandardSchemaV1 }
    ? [Exclude<keyof StandardSchemaV1.InferInput<O["params"]>, keyof PathParams<Path>>] extends [never]
      ? unknown
      : {
          params: `params key "${Extract<Exclude<keyof StandardSchemaV1.InferInput<O["params"]>, keyof PathParams<Path>>, string>}" is not a parameter of the path ${Path}`;
        }
    : unknown
  : unknown;

type NoBodyDeclared<O> = O extends { status: 204 | 304; response: StandardSchemaV1 }
  ? { response: "a 204 or 304 route sends no body: remove response" }
  : unknown;

/**
 * One registered route, as the app's table holds it (`app.routes`). Users see the fields they
 * may read; the rest is the framework's, marked internal and left out of the published types.
 */
export interface Route {
  /** @internal */
  id: number;
  readonly method: HttpMethod;
  readonly path: string;
  readonly lane: RouteLane;
  /** @internal A plain generator handler on the worker lane: its chunks stream back from the worker as they are made. */
  streamsFromWorker: boolean;
  readonly status: number;
  readonly name: string;
  readonly handler: (req: HttpRequest<any, any, any, any, any>, deps: any) => unknown;
  readonly timeout: number | undefined;
  /** @internal */
  bulkhead: Bulkhead | undefined;
  /** @internal Lower-cased media types the body may have, or undefined for any. */
  accepts: string[] | undefined;
  /** @internal The route's form limits, every default filled in. */
  formLimits: ResolvedFormLimits;
  /** @internal The declared input schemas (for OpenAPI) and their compiled plan (undefined: nothing to validate). */
  schemas: InputSchemas;
  /** @internal */
  inputs: InputPlan | undefined;
  /** @internal */
  response: StandardSchemaV1 | undefined;
  /** @internal The handler's named dependencies. */
  deps: DependencyMap;
  /** @internal Dependencies run for their effect: the app's and routers' first, then the route's own. */
  effects: Dependency[];
  /** @internal Middleware of the routers it was included through, outermost first (the app's own runs before routing). */
  middleware: Middleware[];
  readonly docs: RouteDocs;
  /** @internal Every dependency in the order it runs (sub-dependencies first, each once), set by the app. */
  plan: Dependency[];
  /** @internal The plan as it runs: the same, with the app's dependency overrides in place (re-made when they change). */
  steps: PlanStep[];
  /** @internal The exception handlers of the app it belongs to (a mounted app's own, for its routes). */
  errors: ErrorHandlers;
  /** @internal A static mount's catch-all route: the docs routes go before it (a mount at "/" would hide them). */
  servesFiles?: boolean;
  /** @internal A mounted Fetch handler's route: the handler streams the body itself. */ rawRequest?: boolean;
}

/** A route as a router holds it; `errors` is set only on the routes of a mounted app (the app's own otherwise). */
export type RouteDefinition = Omit<Route, "id" | "plan" | "steps" | "errors"> & { errors?: ErrorHandlers };

/** `router.get(path, handler)` or `router.get(path, options, handler)`, typed once for every method. */
export interface RouteMethod<Self> {
  <Path extends string>(path: Path, handler: Handler<Path>): Self;
  <Path extends string, O extends RouteOptions>(path: Path, options: O & CheckedOptions<Path, O, Self>, handler: HandlerFor<Path, O>): Self;
}

export interface RouterOptions {
  prefix?: string;
  /** Dependencies every route of this router runs (for their effect, e.g. an auth check). */
  dependencies?: Dependency<any>[];
  /** Tags added to every route of this router in the OpenAPI document. */
  tags?: string[];
}

/**
 * A group of routes under a common prefix, included into an app (or another router):
 *
 *     const users = new Router({ prefix: "/users" });
 *     users.get("/:id", async (req) => ({ id: req.params.id }));
 *     app.include(users);               // serves GET /users/:id
 */
export class Router {
  readonly prefix: string;
  readonly definitions: RouteDefinition[] = [];
  readonly websocketDefinitions: WebSocketRouteDefinition[] = [];
  readonly dependencies: Dependency[];
  readonly tags: string[];
  /** Middleware added with use(); on a router, it wraps that router's routes when it is included. */
  readonly middleware: Middleware[] = [];

  constructor(options: RouterOptions = {}) {
    this.prefix = normalizePrefix(options.prefix ?? "");
    this.dependencies = checkDependencies(options.dependencies ?? [], "router dependencies");
    this.tags = options.tags ?? [];
  }

  readonly get: RouteMethod<this> = this.method("GET");
  readonly post: RouteMethod<this> = this.method("POST");
  readonly put: RouteMethod<this> = this.method("PUT");
  readonly patch: RouteMethod<this> = this.method("PATCH");
  readonly delete: RouteMethod<this> = this.method("DELETE");
  readonly head: RouteMethod<this> = this.method("HEAD");
  readonly options: RouteMethod<this> = this.method("OPTIONS");

  /**
   * Adds middleware, run on the event loop in the order added (the first added is outermost).
   * On an app it runs for every request, before routing (so it can answer an `OPTIONS`
   * preflight or a 404); on a router, for the requests routed to that router's routes, once
   * their body is read. Call it before `include()`: a router's middleware is fixed then.
   */
  use(...middleware: Middleware[]): this {
    this.middleware.push(...checkMiddleware(middleware));
    return this;
  }

  /**
   * Registers a WebSocket route: its handler gets the accepted connection (and the values of its
   * `deps`) and runs on the event loop. Path params, query, headers and cookies are validated and
   * the dependencies resolved before the connection is accepted; a failure refuses the handshake
   * with the HTTP status an HTTP route would answer (422, 401, ...).
   *
   *     app.websocket("/ws/echo", async (ws) => {
   *       for await (const message of ws) await ws.sendJson({ echo: message });
   *     });
   */
  readonly websocket: WebSocketMethod<this> = ((path: string, a: WebSocketRouteOptions | Function, b?: Function) => {
    const [options, handler] = typeof a === "function" ? [{}, a] : [a, b];
    this.addWebSocket(defineWebSocketRoute(this.prefix, path, options, handler, this.dependencies));
    return this;
  }) as WebSocketMethod<this>;

  /** Registers a handler for any method. */
  route<Path extends string, O extends RouteOptions>(method: HttpMethod, path: Path, options: O, handler: HandlerFor<Path, O>): this {
    const upper = method.toUpperCase() as HttpMethod;
    if (!httpMethods.includes(upper)) throw new TypeError(`unsupported HTTP method ${JSON.stringify(method)}`);
    if (typeof path !== "string" || !path.startsWith("/")) {
      throw new TypeError(`route path must start with "/", got ${JSON.stringify(path)}`);
    }
    if (typeof handler !== "function") throw new TypeError(`the handler for ${upper} ${path} is not a function`);
    const status = options.status ?? 200;
    // A 1xx is not a final response: the client would wait for one that never comes.
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`status for ${upper} ${path} must be an HTTP status code from 200 to 599, got ${status}`);
    }
    if (options.timeout !== undefined && !(options.timeout > 0)) {
      throw new RangeError(`timeout for ${upper} ${path} must be a positive number of ms, got ${options.timeout}`);
    }
    if (options.concurrency !== undefined && options.bulkhead !== undefined) {
      throw new TypeError(`${upper} ${path}: give either concurrency or bulkhead, not both`);
    }
    const where = `${upper} ${path}`;
    if (options.response !== undefined && !isStandardSchema(options.response)) {
      throw new TypeError(`${where}: "response" must be a Standard Schema validator (Zod 4, Valibot, ArkType, ...)`);
    }
    const schemas: InputSchemas = {
      params: options.params,
      query: options.query,
      headers: options.headers,
      cookies: options.cookies,
      body: options.body,
    };
    const deps = options.deps ?? {};
    for (const [name, dep] of Object.entries(deps)) {
      if (!isDependency(dep)) throw new TypeError(`${where}: dependency "${name}" is not one; wrap its function with depends()`);
    }
    const { tags, summary, description, operationId, deprecated, includeInSchema } = options;
    const lane = routeLaneOf(handler, options.lane, where);
    this.add({
      method: upper,
      path: this.prefix + path,
      lane,
      streamsFromWorker: streamsFromWorker(handler, lane),
      status,
      name: options.name ?? handler.name,
      handler: handler as Route["handler"],
      timeout: options.timeout,
      accepts: options.accepts?.map((type) => type.toLowerCase()),
      formLimits: resolveFormLimits(options.formLimits, where),
      bulkhead: options.bulkhead ?? (options.concurrency === undefined ? undefined : new Bulkhead(options.concurrency)),
      schemas,
      inputs: planInputs(schemas, where),
      response: options.response,
      deps,
      effects: [...this.dependencies, ...checkDependencies(options.dependencies ?? [], `${where}: dependencies`)],
      middleware: [],
      docs: { tags: [...this.tags, ...(tags ?? [])], summary, description, operationId, deprecated, includeInSchema },
    });
    return this;
  }

  /** Adds every route of `router` (already carrying its own prefix) under this one's prefix, with this one's dependencies and tags. */
  include(router: Router): this {
    for (const definition of router.definitions) {
      this.add({
        ...definition,
        path: this.prefix + definition.path,
        effects: [...this.dependencies, ...definition.effects],
        middleware: [...router.middleware, ...definition.middleware],
        docs: { ...definition.docs, tags: [...this.tags, ...(definition.docs.tags ?? [])] },
      });
    }
    for (const definition of router.websocketDefinitions) {
      this.addWebSocket({ ...definition, path: this.prefix + definition.path, effects: [...this.dependencies, ...definition.effects] });
    }
    return this;
  }

  protected add(definition: RouteDefinition): void {
    this.definitions.push(definition);
  }

  protected addWebSocket(definition: WebSocketRouteDefinition): void {
    this.websocketDefinitions.push(definition);
  }

  private method(method: HttpMethod): RouteMethod<this> {
    return ((path: string, optionsOrHandler: RouteOptions | Route["handler"], maybeHandler?: Route["handler"]) =>
      typeof optionsOrHandler === "function"
        ? this.route(method, path, {}, optionsOrHandler as never)
        : this.route(method, path, optionsOrHandler, maybeHandler as never)) as RouteMethod<this>;
  }
}

function routeLaneOf(handler: Function, lane: RouteLane | undefined, where: string): RouteLane {
  if (lane === "queue") return lane;
  if (lane !== undefined && lane !== "loop" && lane !== "worker") {
    throw new TypeError(`lane for ${where} must be "loop", "worker" or "queue", got ${JSON.stringify(lane)}`);
  }
  return laneOf(handler, lane);
}

/** Where the handler itself runs in the process that runs it: a queue-lane route follows the lane rule on its worker process. */
export function handlerLane(route: Pick<Route, "lane" | "handler">): Lane {
  return route.lane === "queue" ? laneOf(route.handler) : route.lane;
}

function checkDependencies(list: Dependency[], where: string): Dependency[] {
  if (!Array.isArray(list)) throw new TypeError(`${where} must be a list of dependencies`);
  list.forEach((dep, i) => {
    if (!isDependency(dep)) throw new TypeError(`${where}: item ${i} is not a dependency; wrap its function with depends()`);
  });
  return [...list];
}

function normalizePrefix(prefix: string): string {
  if (prefix === "" || prefix === "/") return "";
  if (!prefix.startsWith("/")) throw new TypeError(`router prefix must start with "/", got ${JSON.stringify(prefix)}`);
  return prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
}

/**
 * A route the framework adds itself (the docs pages, a static directory): a GET on the loop
 * lane with nothing to validate, left out of the OpenAPI document.
 */
export function frameworkRoute(path: string, name: string, handler: Route["handler"]): RouteDefinition {
  return {
    method: "GET",
    path,
    lane: "loop",
    streamsFromWorker: false,
    status: 200,
    name,
    handler,
    timeout: undefined,
    bulkhead: undefined,
    accepts: undefined,
    formLimits: defaultFormLimits,
    schemas: {},
    inputs: undefined,
    response: undefined,
    deps: {},
    effects: [],
    middleware: [],
    docs: { includeInSchema: false },
  };
}
