// Connect/Express-style middleware, `(req, res, next)`, as Loopwise middleware: helmet, cors,
// rate limiters and the like run on the Node request, against a response that collects what they
// set. One that calls `next()` lets the request go on, its headers added to the answer (the
// route's own win, as in Express); one that ends the response answers with it; `next(error)` and
// a throw go to the app's exception handlers. Middleware that reads the body (body parsers) does
// not belong here: Loopwise reads it. What a middleware adds to the Node request stays there.
import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { incomingKey } from "../app/fetch-mount.js";
import type { Middleware } from "../app/middleware.js";
import { asResponse, type OutgoingResponse } from "../http/response.js";
import { describeValue } from "../pool/protocol.js";

export type ConnectNext = (error?: unknown) => void;
/** Typed as a method, so Express's own Request and Response types (which add to Node's) are accepted too. */
export type ConnectMiddleware = {
  middleware(req: IncomingMessage, res: ServerResponse, next: ConnectNext): unknown;
}["middleware"];

/**
 *     import helmet from "helmet";
 *     app.use(connect(helmet()));
 */
export function connect(middleware: ConnectMiddleware): Middleware {
  if (typeof middleware !== "function") throw new TypeError(`connect() takes a (req, res, next) function, got ${describeValue(middleware)}`);
  if (middleware.length === 4)
    throw new TypeError("connect() takes request middleware; an error handler (err, req, res, next) is app.exceptionHandler()'s job");
  return (req, next) => {
    const incoming = (req as { [incomingKey]?: IncomingMessage })[incomingKey];
    // A WebSocket handshake's request has no Node response to stand in for: the middleware is skipped.
    if (incoming === undefined) return next();
    return new Promise<OutgoingResponse>((resolve, reject) => {
      let settled = false;
      const res = new ConnectResponse(incoming, (answer) => {
        if (settled) return;
        settled = true;
        resolve(answer);
      });
      const goOn: ConnectNext = (error) => {
        if (settled) return;
        settled = true;
        // Express's "route" and "router" skip to the next route: here, the request goes on.
        if (error !== undefined && error !== null && error !== "route" && error !== "router") return reject(error);
        next().then((response) => resolve(res.addHeadersTo(response)), reject);
      };
      try {
        // Not a ServerResponse: it has what middleware uses of one (headers, status, end).
        const returned = middleware(incoming, res as unknown as ServerResponse, goOn);
        if (returned instanceof Promise) returned.catch((error: unknown) => goOn(error ?? new Error("a Connect middleware rejected")));
      } catch (error) {
        goOn(error ?? new Error("a Connect middleware threw"));
      }
    });
  };
}

/** What a Connect middleware writes to: Node's ServerResponse methods that set headers, the status and the body. */
export class ConnectResponse extends EventEmitter {
  statusCode = 200;
  statusMessage = "";
  headersSent = false;
  writableEnded = false;
  /** Express's per-request scratch space, for middleware that uses it. */
  locals: Record<string, unknown> = {};
  readonly #headers = new Map<string, string | string[]>();
  readonly #body: Buffer[] = [];

  constructor(
    readonly req: IncomingMessage,
    private readonly answer: (response: OutgoingResponse) => void,
  ) {
    super();
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    this.#headers.set(name.toLowerCase(), Array.isArray(value) ? [...value] : String(value));
    return this;
  }
  appendHeader(name: string, value: string | readonly string[]): this {
    const key = name.toLowerCase();
    const before = this.#headers.get(key);
    const added = Array.isArray(value) ? [...value] : [String(value)];
    this.#headers.set(key, before === undefined ? added : [...(Array.isArray(before) ? before : [before]), ...added]);
    return this;
  }
  getHeader(name: string): string | string[] | undefined {
    return this.#headers.get(name.toLowerCase());
  }
  getHeaders(): Record<string, string | string[]> {
    return Object.fromEntries(this.#headers);
  }
  getHeaderNames(): string[] {
    return [...this.#headers.keys()];
  }
  hasHeader(name: string): boolean {
    return this.#headers.has(name.toLowerCase());
  }
  removeHeader(name: string): void {
    this.#headers.delete(name.toLowerCase());
  }
  writeHead(status: number, message?: string | Record<string, string | string[]>, headers?: Record<string, string | string[]>): this {
    this.statusCode = status;
    if (typeof message === "string") this.statusMessage = message;
    for (const [name, value] of Object.entries((typeof message === "object" ? message : headers) ?? {})) this.setHeader(name, value);
    return this;
  }
  write(chunk: string | Uint8Array, encoding?: BufferEncoding | (() => void), callback?: () => void): boolean {
    if (this.writableEnded) return false;
    this.#body.push(typeof chunk === "string" ? Buffer.from(chunk, typeof encoding === "string" ? encoding : "utf8") : Buffer.from(chunk));
    const done = typeof encoding === "function" ? encoding : callback;
    if (done) queueMicrotask(done);
    return true;
  }
  /** The middleware answered: its status, headers and body are the response. */
  end(chunk?: string | Uint8Array | (() => void), encoding?: BufferEncoding | (() => void), callback?: () => void): this {
    if (this.writableEnded) return this;
    if (chunk !== undefined && typeof chunk !== "function") this.write(chunk, typeof encoding === "string" ? encoding : undefined);
    this.writableEnded = true;
    this.headersSent = true;
    const status = Number.isInteger(this.statusCode) && this.statusCode >= 200 && this.statusCode <= 599 ? this.statusCode : 500;
    const headers = this.getHeaders();
    if (headers["content-type"] === undefined && this.#body.length > 0) headers["content-type"] = "text/plain; charset=utf-8";
    this.answer(asResponse({ status, headers, body: Buffer.concat(this.#body) }));
    this.emit("finish");
    const done = [chunk, encoding, callback].find((arg) => typeof arg === "function") as (() => void) | undefined;
    if (done) queueMicrotask(done);
    return this;
  }

  /** After `next()`: the headers the middleware set, under the route's own. */
  addHeadersTo(response: OutgoingResponse): OutgoingResponse {
    for (const [name, value] of this.#headers) if (!(name in response.headers)) response.headers[name] = value;
    return response;
  }
}
