// `createClient<typeof app>(baseUrl)`: an HTTP client typed from the app's own route table, no
// code generation (as Hono's `hc`). It runs wherever `fetch` does (a browser, Node, a test),
// over the network or, given a TestClient, in memory. It imports nothing of the server.
import { headerName } from "../params/header-name.js";
import type { CallOptions, Client, ClientResult, LooseInit, Verbs } from "./client-types.js";

/** Anything with a web `fetch`: a TestClient (in memory), or your own wrapper. */
export interface Fetcher {
  fetch(request: Request): Promise<Response>;
}

export interface ClientOptions {
  /** Headers sent with every request (an `authorization`, say). */
  headers?: Record<string, string>;
  /** The `fetch` to use (default: the global one). */
  fetch?: (request: Request) => Promise<Response>;
}

/** What `fetch` sends as a request body. */
type RequestBody = NonNullable<ConstructorParameters<typeof Request>[1]>["body"];

const verbs: Record<keyof Verbs, string> = {
  get: "GET",
  post: "POST",
  put: "PUT",
  patch: "PATCH",
  delete: "DELETE",
  head: "HEAD",
  options: "OPTIONS",
};

/** Where requests go when the client runs in memory: any origin does, the app sees the path. */
const inMemoryOrigin = "http://testclient";

/**
 * A client for the app whose type is `A` (`typeof app`), with a method per HTTP verb taking a
 * route's path as written and its inputs: `client.get("/items/:id", { params: { id: 3 } })`.
 * Each call resolves to `{ status, data, error, response }` and never rejects for an HTTP
 * status (only when the request cannot be made).
 *
 *     const api = createClient<typeof app>("http://127.0.0.1:8000");
 *     const { data, error } = await api.post("/items", { body: { name: "pen" } });
 */
export function createClient<A>(base: string | Fetcher, options: ClientOptions = {}): Client<A> {
  const inMemory = typeof base === "object" && base !== null && typeof base.fetch === "function";
  if (!inMemory && typeof base !== "string") throw new TypeError("createClient() takes a base URL or a TestClient");
  const origin = inMemory ? inMemoryOrigin : baseOf(base as string);
  const send = options.fetch ?? (inMemory ? (request: Request) => (base as Fetcher).fetch(request) : (request: Request) => fetch(request));
  const client: Record<string, unknown> = {};
  for (const [verb, method] of Object.entries(verbs)) {
    client[verb] = async (path: string, init: LooseInit = {}) =>
      call(send, method, origin + fillPath(path, init.params) + queryString(init.query), init, options.headers);
  }
  return client as Client<A>;
}

async function call(
  send: (request: Request) => Promise<Response>,
  method: string,
  url: string,
  init: LooseInit & CallOptions,
  common: Record<string, string> | undefined,
): Promise<ClientResult<unknown, unknown>> {
  const headers = new Headers(common);
  for (const [key, value] of Object.entries(init.headers ?? {})) if (value !== undefined) headers.set(headerName(key), String(value));
  for (const [name, value] of Object.entries(init.extraHeaders ?? {})) headers.set(name, value);
  let body: RequestBody | undefined;
  if (init.body !== undefined) {
    body = encodeBody(init.body);
    if (typeof body === "string") headers.set("content-type", "application/json");
  }
  const response = await send(new Request(url, { method, headers, body, signal: init.signal }));
  const content = method === "HEAD" ? undefined : await readBody(response);
  return response.ok
    ? { status: response.status, data: content, error: undefined, response }
    : { status: response.status, data: undefined, error: content, response };
}

/** The base URL requests start with: its origin and path (an app served under `/api`), never a query or fragment of its own. */
function baseOf(base: string): string {
  const url = new URL(base);
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new TypeError(`createClient() takes an http or https URL, got ${JSON.stringify(base)}`);
  return (url.origin + url.pathname).replace(/\/+$/, "");
}

/** `"/items/:id"` with `{ id: 3 }` → `/items/3`; each value encoded, a missing one refused. */
export function fillPath(path: string, params: Record<string, string | number> | undefined): string {
  if (typeof path !== "string" || !path.startsWith("/")) throw new TypeError(`a path starts with "/", got ${JSON.stringify(path)}`);
  const value = (name: string) => {
    const given = params?.[name];
    if (given === undefined || given === null || given === "") throw new TypeError(`${path}: path parameter "${name}" is missing`);
    return encodeURIComponent(String(given));
  };
  return path
    .replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, (_, name: string) => value(name))
    .replace(/\*$/, () => (params?.["*"] === undefined ? "" : String(params["*"]).split("/").map(encodeURIComponent).join("/")));
}

/** A query as the server reads it: a list repeats its key, a date is ISO 8601, undefined is left out. */
export function queryString(query: Record<string, unknown> | undefined): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null) continue;
      search.append(key, item instanceof Date ? item.toISOString() : typeof item === "object" ? JSON.stringify(item) : String(item));
    }
  }
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

/** JSON, unless the body already is one `fetch` sends as it is (a form, bytes), or holds files (then a multipart form). */
function encodeBody(body: unknown): RequestBody {
  if (
    body instanceof FormData ||
    body instanceof URLSearchParams ||
    body instanceof Blob ||
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer
  ) {
    return body as RequestBody;
  }
  if (body !== null && typeof body === "object" && Object.values(body).some(isFileValue)) {
    const form = new FormData();
    for (const [name, value] of Object.entries(body)) {
      for (const item of Array.isArray(value) ? value : [value])
        if (item !== undefined) form.append(name, item instanceof Blob ? item : String(item));
    }
    return form;
  }
  return JSON.stringify(body);
}

const isFileValue = (value: unknown): boolean => value instanceof Blob || (Array.isArray(value) && value.some((item) => item instanceof Blob));

/** JSON parsed, text as text; a stream (events, JSON Lines) is left to `response.body`; no body is undefined. */
async function readBody(response: Response): Promise<unknown> {
  const type = response.headers.get("content-type") ?? "";
  if (response.status === 204 || response.status === 304 || response.body === null) return undefined;
  if (/^text\/event-stream|^application\/(jsonl|x-ndjson)/i.test(type)) return undefined;
  const text = await response.text();
  if (text === "") return undefined;
  if (/[/+]json\b/i.test(type)) return JSON.parse(text);
  return text;
}
