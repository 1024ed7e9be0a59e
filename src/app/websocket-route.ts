// `app.websocket(path, options, handler)`: a WebSocket route as the route table holds it,
// checked and planned once at registration like an HTTP route. Its handler always runs on the
// event loop: the connection it owns lives on the main thread, and a worker cannot hold it.
import { isDependency, type Dependency, type DependencyMap, type PlanStep } from "../deps/dependency.js";
import { planInputs, type InputPlan, type InputSchemas } from "../params/input-plan.js";
import type { StandardSchemaV1 } from "../params/standard-schema.js";
import type { Lane } from "../threads/lane.js";
import type { ErrorHandlers } from "./error-handlers.js";
import type { DepsFor, RequestFor } from "./router.js";
import type { ServerWebSocket } from "./server-websocket.js";

export interface WebSocketRouteOptions {
  /** Schema of the path parameters. */
  params?: StandardSchemaV1;
  /** Schema of the query string. */
  query?: StandardSchemaV1;
  /** Schema of the handshake's headers (matched by name case-insensitively). */
  headers?: StandardSchemaV1;
  /** Schema of the handshake's cookies. */
  cookies?: StandardSchemaV1;
  /** Named dependencies, resolved before the connection is accepted; their values are the handler's second argument. */
  deps?: DependencyMap;
  /** Dependencies run for their effect only (an auth check) before the connection is accepted. */
  dependencies?: Dependency<any>[];
  /** Subprotocols the route speaks, by preference: the first the client also offers is chosen (`ws.protocol`). */
  subprotocols?: string[];
  /** Largest message accepted, bytes (default 1 MiB); a larger one closes the connection with 1009. */
  maxMessageSize?: number;
  /** A name for logs; defaults to the handler's function name. */
  name?: string;
  /** Only "loop": a WebSocket handler runs on the event loop whatever it looks like. */
  lane?: "loop";
}

/** The connection a handler of `path` declared with `options` receives, typed from its schemas. */
export type WebSocketFor<Path extends string, O> = ServerWebSocket<
  RequestFor<Path, O>["params"],
  RequestFor<Path, O>["query"],
  RequestFor<Path, O>["headers"],
  RequestFor<Path, O>["cookies"]
>;

export type WebSocketHandlerFor<Path extends string, O> = (ws: WebSocketFor<Path, O>, deps: DepsFor<O>) => unknown;

/** `router.websocket(path, handler)` or `router.websocket(path, options, handler)`. */
export interface WebSocketMethod<Self> {
  <Path extends string>(path: Path, handler: WebSocketHandlerFor<Path, {}>): Self;
  <Path extends string, O extends WebSocketRouteOptions>(path: Path, options: O, handler: WebSocketHandlerFor<Path, O>): Self;
}

/** One registered WebSocket route. Its id is its registration order among the app's WebSocket routes. */
export interface WebSocketRoute {
  id: number;
  path: string;
  name: string;
  handler: (ws: ServerWebSocket<any, any, any, any>, deps: any) => unknown;
  schemas: InputSchemas;
  inputs: InputPlan | undefined;
  deps: DependencyMap;
  effects: Dependency[];
  subprotocols: string[];
  /** Undefined: the server's default. */
  maxMessageSize: number | undefined;
  /** Every dependency in the order it runs, set by the app. */
  plan: Dependency[];
  /** What runs for each dependency of the plan: the dependency, or its override. */
  steps: PlanStep[];
  errors: ErrorHandlers;
}

export type WebSocketRouteDefinition = Omit<WebSocketRoute, "id" | "plan" | "steps" | "errors">;

/** Where such a route runs, for the lane checks of its dependencies. */
export const webSocketLane: Lane = "loop";

/** Checks what `router.websocket()` was given and builds the route's definition. */
export function defineWebSocketRoute(
  prefix: string,
  ownPath: string,
  options: WebSocketRouteOptions,
  handler: unknown,
  effects: Dependency[],
): WebSocketRouteDefinition {
  if (typeof ownPath !== "string" || !ownPath.startsWith("/")) {
    throw new TypeError(`WebSocket route path must start with "/", got ${JSON.stringify(ownPath)}`);
  }
  const path = prefix + ownPath;
  const where = `WEBSOCKET ${path}`;
  if (typeof handler !== "function") throw new TypeError(`the handler for ${where} is not a function`);
  if (typeof options !== "object" || options === null) throw new TypeError(`${where}: options must be an object`);
  if ((options as { lane?: unknown }).lane !== undefined && options.lane !== "loop") {
    throw new TypeError(
      `${where}: a WebSocket handler runs on the event loop, where its connection lives; it cannot take lane ${JSON.stringify(options.lane)}. ` +
        "Run blocking work from it with await offload(fn, ...args).",
    );
  }
  if ("body" in options) throw new TypeError(`${where}: a WebSocket handshake has no body; read messages with ws.receive() instead`);
  const subprotocols = options.subprotocols ?? [];
  if (!Array.isArray(subprotocols) || subprotocols.some((p) => typeof p !== "string" || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(p))) {
    throw new TypeError(
      `${where}: subprotocols must be a list of tokens (letters, digits, and !#$%&'*+-.^_\`|~), got ${JSON.stringify(subprotocols)}`,
    );
  }
  const { maxMessageSize } = options;
  if (maxMessageSize !== undefined && !(Number.isSafeInteger(maxMessageSize) && maxMessageSize > 0)) {
    throw new RangeError(`${where}: maxMessageSize must be a positive whole number of bytes, got ${maxMessageSize}`);
  }
  const deps = options.deps ?? {};
  for (const [name, dep] of Object.entries(deps)) {
    if (!isDependency(dep)) throw new TypeError(`${where}: dependency "${name}" is not one; wrap its function with depends()`);
  }
  const own = options.dependencies ?? [];
  if (!Array.isArray(own) || !own.every(isDependency)) throw new TypeError(`${where}: dependencies must be a list of depends() values`);
  const schemas: InputSchemas = { params: options.params, query: options.query, headers: options.headers, cookies: options.cookies };
  return {
    path,
    name: options.name ?? (handler as Function).name,
    handler: handler as WebSocketRoute["handler"],
    schemas,
    inputs: planInputs(schemas, where),
    deps,
    effects: [...effects, ...own],
    subprotocols: [...subprotocols],
    maxMessageSize,
  };
}
