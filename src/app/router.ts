import { Bulkhead } from "../lanes/bulkhead.js";
import { laneOf, type Lane } from "../lanes/lane.js";
import type { PathParams } from "./path-params.js";
import type { HttpRequest } from "./request.js";

export const httpMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
export type HttpMethod = (typeof httpMethods)[number];

export type Handler<Path extends string = string> = (req: HttpRequest<PathParams<Path>>) => unknown;

export interface RouteOptions {
  /** Override the lane rule (async → loop, plain → worker) for this route. */
  lane?: Lane;
  /** Status for plain return values (FastAPI's `status_code`); default 200. */
  status?: number;
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
  /** At most this many requests of this route run at once; the rest wait their turn (a private bulkhead). */
  concurrency?: number;
  /** A bulkhead shared with other routes: together they run at most `bulkhead.limit` requests at once. */
  bulkhead?: Bulkhead;
}

/** One registered route, as the app's table holds it. Its id is its registration order. */
export interface Route {
  id: number;
  method: HttpMethod;
  path: string;
  lane: Lane;
  status: number;
  name: string;
  handler: Handler;
  timeout: number | undefined;
  bulkhead: Bulkhead | undefined;
  /** Lower-cased media types the body may have, or undefined for any. */
  accepts: string[] | undefined;
}

export type RouteDefinition = Omit<Route, "id">;

/** `router.get(path, handler)` or `router.get(path, options, handler)`, typed once for every method. */
export interface RouteMethod<Self> {
  <Path extends string>(path: Path, handler: Handler<Path>): Self;
  <Path extends string>(path: Path, options: RouteOptions, handler: Handler<Path>): Self;
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

  constructor(options: { prefix?: string } = {}) {
    this.prefix = normalizePrefix(options.prefix ?? "");
  }

  readonly get: RouteMethod<this> = this.method("GET");
  readonly post: RouteMethod<this> = this.method("POST");
  readonly put: RouteMethod<this> = this.method("PUT");
  readonly patch: RouteMethod<this> = this.method("PATCH");
  readonly delete: RouteMethod<this> = this.method("DELETE");
  readonly head: RouteMethod<this> = this.method("HEAD");
  readonly options: RouteMethod<this> = this.method("OPTIONS");

  /** Registers a handler for any method. */
  route<Path extends string>(method: HttpMethod, path: Path, options: RouteOptions, handler: Handler<Path>): this {
    const upper = method.toUpperCase() as HttpMethod;
    if (!httpMethods.includes(upper)) throw new TypeError(`unsupported HTTP method ${JSON.stringify(method)}`);
    if (typeof path !== "string" || !path.startsWith("/")) {
      throw new TypeError(`route path must start with "/", got ${JSON.stringify(path)}`);
    }
    if (typeof handler !== "function") throw new TypeError(`the handler for ${upper} ${path} is not a function`);
    const status = options.status ?? 200;
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new RangeError(`status for ${upper} ${path} must be an HTTP status code, got ${status}`);
    }
    if (options.timeout !== undefined && !(options.timeout > 0)) {
      throw new RangeError(`timeout for ${upper} ${path} must be a positive number of ms, got ${options.timeout}`);
    }
    if (options.concurrency !== undefined && options.bulkhead !== undefined) {
      throw new TypeError(`${upper} ${path}: give either concurrency or bulkhead, not both`);
    }
    this.add({
      method: upper,
      path: this.prefix + path,
      lane: laneOf(handler, options.lane),
      status,
      name: options.name ?? handler.name,
      handler: handler as Handler,
      timeout: options.timeout,
      accepts: options.accepts?.map((type) => type.toLowerCase()),
      bulkhead: options.bulkhead ?? (options.concurrency === undefined ? undefined : new Bulkhead(options.concurrency)),
    });
    return this;
  }

  /** Adds every route of `router` (already carrying its own prefix) under this one's prefix. */
  include(router: Router): this {
    for (const definition of router.definitions) this.add({ ...definition, path: this.prefix + definition.path });
    return this;
  }

  protected add(definition: RouteDefinition): void {
    this.definitions.push(definition);
  }

  private method(method: HttpMethod): RouteMethod<this> {
    return (<Path extends string>(path: Path, optionsOrHandler: RouteOptions | Handler<Path>, maybeHandler?: Handler<Path>) =>
      typeof optionsOrHandler === "function"
        ? this.route(method, path, {}, optionsOrHandler)
        : this.route(method, path, optionsOrHandler, maybeHandler as Handler<Path>)) as RouteMethod<this>;
  }
}

function normalizePrefix(prefix: string): string {
  if (prefix === "" || prefix === "/") return "";
  if (!prefix.startsWith("/")) throw new TypeError(`router prefix must start with "/", got ${JSON.stringify(prefix)}`);
  return prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
}
