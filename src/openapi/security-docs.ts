// What dependencies add to the OpenAPI document: each security dependency of a route (its own or a
// sub-dependency's) becomes a security requirement of the operation and a scheme under
// components.securitySchemes, which is what gives /docs its Authorize button; a dependency that
// reads a form (the OAuth2 token form) documents the request body.
import type { Route } from "../app/router.js";

type JsonObject = Record<string, unknown>;

/** The operation's `security`: one requirement per security dependency, in plan order (any one of them will do, as in FastAPI). */
export function securityRequirements(route: Route): JsonObject[] | undefined {
  const requirements: JsonObject[] = [];
  const seen = new Set<string>();
  for (const dep of route.plan) {
    const security = dep.docs?.security;
    if (!security || seen.has(security.name)) continue;
    seen.add(security.name);
    requirements.push({ [security.name]: security.scopes });
  }
  return requirements.length > 0 ? requirements : undefined;
}

/** Every scheme the documented routes use, by name (the first declared wins a name used twice). */
export function securitySchemes(routes: readonly Route[]): JsonObject | undefined {
  const schemes: JsonObject = {};
  for (const route of routes) {
    if (route.docs.includeInSchema === false) continue;
    for (const dep of route.plan) {
      const security = dep.docs?.security;
      if (security && !(security.name in schemes)) schemes[security.name] = security.scheme;
    }
  }
  return Object.keys(schemes).length > 0 ? schemes : undefined;
}

/** The request body a dependency documents (the token form), for a route that declares no body schema. */
export function dependencyBody(route: Route): JsonObject | undefined {
  for (const dep of route.plan) {
    if (dep.docs?.requestBody) return { required: true, content: dep.docs.requestBody };
  }
  return undefined;
}
