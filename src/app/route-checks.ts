// Mistakes in a route's declaration that would make every request fail, refused when the route
// is registered (with its full path: a router's or a mount's prefix may hold parameters).
import { jsonSchemaOf } from "../params/standard-schema.js";
import type { RouteDefinition } from "./router.js";

/** Throws naming the route: `params` keys the path does not have, a response body declared on a 204 or 304. */
export function checkRouteDeclaration(route: Pick<RouteDefinition, "method" | "path" | "schemas" | "status" | "response">): void {
  const where = `${route.method} ${route.path}`;
  if (route.schemas.params) {
    const keys = Object.keys((jsonSchemaOf(route.schemas.params, "input")?.properties as object | undefined) ?? {});
    const inPath = pathParamNames(route.path);
    const missing = keys.filter((key) => !inPath.includes(key));
    if (missing.length > 0) {
      const has = inPath.length > 0 ? `its parameters are ${inPath.map((name) => `"${name}"`).join(", ")}` : "it has no parameters";
      throw new TypeError(
        `${where}: params ${missing.map((key) => `"${key}"`).join(", ")} ${missing.length === 1 ? "is" : "are"} not in the path (${has}); ` +
          "every request would be refused with 422. Name the path's parameters as the schema does, or the schema's keys as the path does.",
      );
    }
  }
  if ((route.status === 204 || route.status === 304) && route.response !== undefined) {
    throw new TypeError(
      `${where}: a ${route.status} response has no body, so it cannot declare a response schema; remove "response" or choose another status`,
    );
  }
}

/** `/books/:id/pages/:page(^\\d+)` → ["id", "page"]; a wildcard is "*". */
export function pathParamNames(path: string): string[] {
  const names = [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]!);
  return path.endsWith("*") ? [...names, "*"] : names;
}
