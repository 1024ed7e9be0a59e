import type { AppLogger } from "../log/app-log.js";

/** Query string values: a key given once is a string, a repeated key an array. */
export type Query = Record<string, string | string[]>;

export type Headers = Record<string, string | string[] | undefined>;

/** How the client reached the app: plain HTTP or TLS (at this server, or at a trusted proxy in front). */
export type Scheme = "http" | "https";

/** Who sent a request, as the server determined it (behind a trusted proxy: from its forwarding headers). */
export interface Peer {
  /** `ip:port`; `ip:0` when a proxy named the client; `unix:` on a Unix socket. */
  client: string;
  scheme: Scheme;
}

/**
 * What a handler receives, on either lane. It is plain data so that it crosses to a worker
 * unchanged: a worker-lane handler sees exactly what a loop-lane one would.
 */
export interface HttpRequest<Params = Record<string, string>, QueryT = Query, Body = unknown, HeadersT = Headers, Cookies = Record<string, string>> {
  method: string;
  /** Path and query string as sent, in origin form (a target sent as `http://host/p?q=1` gives `/p?q=1`). */
  url: string;
  path: string;
  /** Path parameters: strings, or what the route's `params` schema made of them. */
  params: Params;
  /** Query string values, or what the route's `query` schema made of them. */
  query: QueryT;
  /** Lower-cased header names, as Node gives them; a `headers` schema adds its validated keys. */
  headers: HeadersT;
  /** Cookies by name (parsed only when a Cookie header came), or what the `cookies` schema made of them. */
  cookies: Cookies;
  /** Parsed body (JSON value, form fields, text, bytes, or undefined when there was none), or the `body` schema's output. */
  body: Body;
  /**
   * The body's bytes exactly as they came (undefined when there was none), beside the parsed
   * `body`: what a webhook's signature is computed over.
   */
  rawBody?: Uint8Array;
  /** The request's id, when the `requestId()` middleware gave it one (also in its access log line). */
  requestId?: string;
  /**
   * Client address, `ip:port`. Behind a trusted proxy with `proxyHeaders`, the address the proxy
   * names in X-Forwarded-For, with port 0; `unix:` for a connection on a Unix socket.
   */
  client: string;
  /** "https" when the client used TLS, to this server or (with `proxyHeaders`) to a trusted proxy; else "http". */
  scheme: Scheme;
  /**
   * The path prefix a proxy serves the app under and strips before passing requests on (the
   * server's `rootPath`, "" when none): links the client follows start with it.
   */
  rootPath: string;
  /**
   * Aborts when the client disconnects before the answer is sent, on either lane (and in
   * dependencies): pass it to `fetch`, or check `signal.aborted` between steps of long work.
   * Not copied with the rest: each lane gives its own.
   */
  readonly signal: AbortSignal;
  /**
   * The application's logger for this request: its lines carry the request's id (from the
   * `requestId()` middleware), its route and its lane, and go where the server's lines go, at its
   * `--log-level`, from either lane. pino's methods: `req.log.info({ user }, "signed in")`.
   * Not copied with the rest: each lane gives its own.
   */
  readonly log: AppLogger;
}
