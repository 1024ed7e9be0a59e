import { isDependency, type Dependency, type DependencyMap, type PlanStep } from "../deps/dependency.js";
import { Bulkhead } from "../threads/bulkhead.js";
import { laneOf, type Lane } from "../threads/lane.js";
import { planInputs, type InputPlan, type InputSchemas } from "../params/input-plan.js";
import { defaultFormLimits, resolveFormLimits, type FormLimits, type ResolvedFormLimits } from "../params/form-limits.js";
import { isStandardSchema, type StandardSchemaV1 } from "../params/standard-schema.js";
import type { ErrorHandlers } from "./error-handlers.js";
import { checkMiddleware, type Middleware } from "./middleware.js";
import { streamsFromWorker } from "../lanes/stream.js";
import type { PathParams } from "../http/path-params.js";
import type { HttpRequest } from "../http/request.js";
import type { ItemStream } from "../lanes/invoke.js";
import type { DeclaredResponses, HandlerFor, NormalizePrefix, RouteMethod, WithIncluded } from "./route-types.js";
import { defineWebSocketRoute, type WebSocketMethod, type WebSocketRouteDefinition, type WebSocketRouteOptions } from "./websocket-route.js";

export const httpMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
export type HttpMethod = (typeof httpMethods)[number];

export type { CheckedOptions, DepsFor, HandlerFor, RequestFor, ReturnFor, RouteMethod } from "./route-types.js";

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
  /**
   * Other answers the route gives, by status (FastAPI's `responses=`): `{ 404: NotFound }`.
   * Each is documented; a `reply(value, { status })` with that status is validated by its schema.
   */
  responses?: DeclaredResponses;
  /**
   * The route streams Server-Sent Events whose `data` each match this schema (FastAPI's
   * `EventSourceResponse`): the handler returns or yields the items, each is validated and sent
   * as an event, and /openapi.json documents them under `text/event-stream`.
   */
  sse?: StandardSchemaV1;
  /** The same for JSON Lines (`application/jsonl`): one validated item per line. */
  jsonLines?: StandardSchemaV1;
  /** Named dependencies: their values are the handler's second argument. */
  deps?: DependencyMap;
  /** Dependencies that run for their effect only (an auth check); values are not passed. */
  dependencies?: Dependency<any>[];
}

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
  /** @internal Declared answers by status (documented; a reply() of that status is validated by it). */
  responses?: DeclaredResponses;
  /** @internal The items a streaming route sends, and in which format. */
  stream?: ItemStream;
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

export interface RouterOptions<Prefix extends string = string> {
  prefix?: Prefix;
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
export class Router<Prefix extends string = string> {
  readonly prefix: NormalizePrefix<Prefix>;
  readonly definitions: RouteDefinition[] = [];
  readonly websocketDefinitions: WebSocketRouteDefinition[] = [];
  readonly dependencies: Dependency[];
  readonly tags: string[];
  /** Middleware added with use(); on a router, it wraps that router's routes when it is included. */
  readonly middleware: Middleware[] = [];

  constructor(options: RouterOptions<Prefix> = {}) {
    this.prefix = normalizePrefix(options.prefix ?? "") as NormalizePrefix<Prefix>;
    this.dependencies = checkDependencies(options.dependencies ?? [], "router dependencies");
    this.tags = options.tags ?? [];
  }

  readonly get: RouteMethod<this, "GET"> = this.method("GET");
  readonly post: RouteMethod<this, "POST"> = this.method("POST");
  readonly put: RouteMethod<this, "PUT"> = this.method("PUT");
  readonly patch: RouteMethod<this, "PATCH"> = this.method("PATCH");
  readonly delete: RouteMethod<this, "DELETE"> = this.method("DELETE");
  readonly head: RouteMethod<this, "HEAD"> = this.method("HEAD");
  readonly options: RouteMethod<this, "OPTIONS"> = this.method("OPTIONS");

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
      responses: checkResponses(options.responses, where),
      stream: itemStream(options, where),
      deps,
      effects: [...this.dependencies, ...checkDependencies(options.dependencies ?? [], `${where}: dependencies`)],
      middleware: [],
      docs: { tags: [...this.tags, ...(tags ?? [])], summary, description, operationId, deprecated, includeInSchema },
    });
    return this;
  }

  /** Adds every route of `router` (already carrying its own prefix) under this one's prefix, with this one's dependencies and tags. */
  include<R extends Router<string>>(router: R): WithIncluded<this, R> {
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
    return this as WithIncluded<this, R>;
  }

  protected add(definition: RouteDefinition): void {
    this.definitions.push(definition);
  }

  protected addWebSocket(definition: WebSocketRouteDefinition): void {
    this.websocketDefinitions.push(definition);
  }

  private method<M extends HttpMethod>(method: M): RouteMethod<this, M> {
    return ((path: string, optionsOrHandler: RouteOptions | Route["handler"], maybeHandler?: Route["handler"]) =>
      typeof optionsOrHandler === "function"
        ? this.route(method, path, {}, optionsOrHandler as never)
        : this.route(method, path, optionsOrHandler, maybeHandler as never)) as RouteMethod<this, M>;
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

function itemStream(options: RouteOptions, where: string): ItemStream | undefined {
  const { sse, jsonLines } = options;
  if (sse !== undefined && jsonLines !== undefined) throw new TypeError(`${where}: give either sse or jsonLines, not both`);
  const item = sse ?? jsonLines;
  if (item === undefined) return undefined;
  const format = sse !== undefined ? "sse" : "jsonLines";
  if (!isStandardSchema(item)) throw new TypeError(`${where}: "${format}" must be a Standard Schema validator of each item`);
  if (options.response !== undefined) throw new TypeError(`${where}: a streaming route's items are described by "${format}"; remove "response"`);
  return { format, item };
}

function checkResponses(responses: DeclaredResponses | undefined, where: string): DeclaredResponses | undefined {
  if (responses === undefined) return undefined;
  if (responses === null || typeof responses !== "object")
    throw new TypeError(`${where}: "responses" maps statuses to schemas, got ${JSON.stringify(responses)}`);
  for (const [status, schema] of Object.entries(responses)) {
    const code = Number(status);
    if (!Number.isInteger(code) || code < 200 || code > 599)
      throw new RangeError(`${where}: "responses" key ${JSON.stringify(status)} is not an HTTP status from 200 to 599`);
    if (!isStandardSchema(schema))
      throw new TypeError(`${where}: responses[${status}] must be a Standard Schema validator (Zod 4, Valibot, ArkType, ...)`);
  }
  return responses;
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
