// What every security dependency shares: how it appears in OpenAPI, how it refuses a request
// (401 with a WWW-Authenticate challenge, as FastAPI's do), and how it is made.
import { registerDependency, type Dependency } from "../deps/dependency.js";
import { HttpError } from "../http/http-error.js";
import type { HttpRequest } from "../http/request.js";

/** Options every security dependency takes. */
export interface SecurityOptions {
  /** Its name under components.securitySchemes in OpenAPI (default: the kind, such as "HTTPBearer"). */
  schemeName?: string;
  /** Shown in /docs next to the scheme. */
  description?: string;
  /**
   * true (default): a request without valid credentials is answered 401 before the handler runs.
   * false: the value is `undefined` instead, for routes that also serve anonymous users.
   */
  autoError?: boolean;
}

/** The 401 a security dependency answers with: `{"detail": "Not authenticated"}` and its challenge. */
export function notAuthenticated(challenge: string): HttpError {
  return new HttpError(401, "Not authenticated", { "www-authenticate": challenge });
}

/** The one value of a header or query key given as a list (a repeated key): the first. */
export function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Makes a security dependency: `read` gives the credentials or undefined; undefined is a 401
 * (or the value undefined with `autoError: false`). It is async so that it runs on the event loop
 * for a loop-lane route (it only reads the request) and in the worker for a worker-lane one.
 */
export function securityDependency<T>(
  kind: string,
  options: SecurityOptions,
  scheme: Record<string, unknown>,
  challenge: string,
  read: (req: HttpRequest) => T | undefined,
): Dependency<T> {
  const autoError = options.autoError ?? true;
  const name = options.schemeName ?? kind;
  if (typeof name !== "string" || name === "") throw new TypeError(`${kind}: schemeName must be a non-empty string`);
  const documented = options.description === undefined ? scheme : { ...scheme, description: options.description };
  const check = async (req: HttpRequest) => {
    const value = read(req);
    if (value === undefined && autoError) throw notAuthenticated(challenge);
    return value;
  };
  Object.defineProperty(check, "name", { value: kind });
  return registerDependency(check, { docs: { security: { name, scheme: documented, scopes: [] } } }) as Dependency<T>;
}
