// API keys in a header, the query string or a cookie (FastAPI's APIKeyHeader, APIKeyQuery,
// APIKeyCookie). A missing or empty key: 401 with `WWW-Authenticate: APIKey`.
import type { Dependency } from "../deps/dependency.js";
import { parseCookies } from "../params/cookies.js";
import { parseQuery } from "../params/query.js";
import { securityDependency, single, type SecurityOptions } from "./scheme.js";

export interface ApiKeyOptions extends SecurityOptions {
  /** The header, query key or cookie that carries the key. */
  name: string;
}

type Value<O extends SecurityOptions> = O extends { autoError: false } ? string | undefined : string;

function checkName(kind: string, name: unknown): string {
  if (typeof name !== "string" || name === "") throw new TypeError(`${kind}: name must be a non-empty string, got ${JSON.stringify(name)}`);
  return name;
}

const present = (value: string | undefined) => (value === undefined || value === "" ? undefined : value);

/** The key in a request header, e.g. `apiKeyHeader({ name: "X-API-Key" })`. */
export function apiKeyHeader<O extends ApiKeyOptions>(options: O): Dependency<Value<O>> {
  const name = checkName("apiKeyHeader", options?.name);
  const header = name.toLowerCase();
  return securityDependency("APIKeyHeader", options, { type: "apiKey", in: "header", name }, "APIKey", (req) =>
    present(single(req.headers[header])),
  ) as Dependency<Value<O>>;
}

/**
 * The key in the query string, e.g. `apiKeyQuery({ name: "api_key" })`. Read from the URL itself,
 * so a route's `query` schema that does not declare it cannot strip it away.
 */
export function apiKeyQuery<O extends ApiKeyOptions>(options: O): Dependency<Value<O>> {
  const name = checkName("apiKeyQuery", options?.name);
  return securityDependency("APIKeyQuery", options, { type: "apiKey", in: "query", name }, "APIKey", (req) => {
    const start = req.url.indexOf("?");
    return start < 0 ? undefined : present(single(parseQuery(req.url.slice(start + 1))[name]));
  }) as Dependency<Value<O>>;
}

/** The key in a cookie, e.g. `apiKeyCookie({ name: "session" })`; read from the Cookie header itself. */
export function apiKeyCookie<O extends ApiKeyOptions>(options: O): Dependency<Value<O>> {
  const name = checkName("apiKeyCookie", options?.name);
  return securityDependency("APIKeyCookie", options, { type: "apiKey", in: "cookie", name }, "APIKey", (req) =>
    present(parseCookies(single(req.headers.cookie))[name]),
  ) as Dependency<Value<O>>;
}
