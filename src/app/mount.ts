// What `app.mount()` adds to the route table: another app's routes under a prefix, or the two
// routes of a static directory. Every worker imports the same module and mounts the same way,
// so the table, and each route's id, comes out the same in every thread.
import type { HttpRequest } from "../http/request.js";
import type { ErrorHandlers } from "./error-handlers.js";
import type { Middleware } from "./middleware.js";
import { frameworkRoute, type RouteDefinition } from "./router.js";
import type { StaticFiles } from "./static-files.js";
import type { WebSocketRouteDefinition } from "./websocket-route.js";

/** `"/v1"` and `"/v1/"` mount at `/v1`; `"/"` at the root. */
export function mountPrefix(prefix: unknown): string {
  if (typeof prefix !== "string" || !prefix.startsWith("/")) throw new TypeError(`mount() prefix must start with "/", got ${JSON.stringify(prefix)}`);
  if (prefix.includes("*")) throw new TypeError(`mount() prefix cannot hold a wildcard: ${JSON.stringify(prefix)}`);
  return prefix.replace(/\/+$/, "");
}

/**
 * A mounted app's route, as this app serves it: under the prefix, wrapped in the mounted app's
 * middleware (outermost first, as a router's), answered by its exception handlers, and left out
 * of this app's OpenAPI document (the mounted app's own is served under the prefix).
 */
export function mountedRoute(definition: RouteDefinition, prefix: string, middleware: Middleware[], errors: ErrorHandlers): RouteDefinition {
  return {
    ...definition,
    path: prefix + definition.path,
    middleware: [...middleware, ...definition.middleware],
    errors: definition.errors ?? errors,
    docs: { ...definition.docs, includeInSchema: false },
  };
}

/** A mounted app's WebSocket route: under the prefix, answered by the mounted app's exception handlers. */
export function mountedWebSocketRoute(definition: WebSocketRouteDefinition, prefix: string, errors: ErrorHandlers): WebSocketRouteDefinition {
  return { ...definition, path: prefix + definition.path, errors: definition.errors ?? errors };
}

/** The routes of a static mount: the prefix itself (for its index) and everything below it, GET (and so HEAD) only. */
export function staticRoutes(prefix: string, files: StaticFiles): RouteDefinition[] {
  // Segments of the request path that are the prefix's: the rest names the file.
  const depth = prefix === "" ? 0 : prefix.split("/").length - 1;
  const handler = async (req: HttpRequest) => files.respond(req, depth);
  const paths = prefix === "" ? ["/*"] : [prefix, `${prefix}/*`];
  return paths.map((path) => ({ ...frameworkRoute(path, "static files", handler), servesFiles: true }));
}

/** What a mounted app may no longer be given: its routes were copied when it was mounted. */
export function afterMount(prefix: string, what: string): Error {
  return new Error(`${what} added to an app after it was mounted (at "${prefix || "/"}") would not be served: add it before mount()`);
}
