// Mounting another framework's handler: anything that speaks the Fetch API, `(request: Request)
// => Response` (Hono's `app.fetch`, GraphQL Yoga, tRPC's fetch adapter, better-auth), served
// under a prefix as WSGI apps are in FastAPI. It runs on the loop lane, through this app's
// middleware, access log, metrics and traces; the request body streams into it (within the body
// limit) and its response streams out.
import type { IncomingMessage } from "node:http";
import type { HttpRequest } from "../http/request.js";
import { tooLarge } from "../params/body.js";
import { describeValue } from "../pool/protocol.js";
import { frameworkRoute, httpMethods, type RouteDefinition } from "./router.js";

/** A handler of the Fetch API: what Hono's `app.fetch`, GraphQL Yoga and tRPC's fetch adapter are. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

export interface FetchMountOptions {
  /**
   * Whether the handler sees paths without the prefix, as a mounted app does in Starlette and in
   * Hono's own mount (default true): mounted at "/hono", a request for "/hono/users" reaches it as "/users".
   */
  stripPrefix?: boolean;
}

/** Where a request of a mounted handler keeps its Node request and the body limit (symbol keys: they never cross). */
export const incomingKey = Symbol("loopwise.incoming");
export const bodyLimitKey = Symbol("loopwise.bodyLimit");

interface RawRequest {
  [incomingKey]?: IncomingMessage;
  [bodyLimitKey]?: number;
}

/** The handler of a mount target that speaks the Fetch API (a function, or an object with a `fetch` method), else undefined. */
export function fetchHandlerOf(target: unknown): FetchHandler | undefined {
  if (typeof target === "function") return target as FetchHandler;
  if (typeof target === "object" && target !== null && typeof (target as { fetch?: unknown }).fetch === "function") {
    const owner = target as { fetch: FetchHandler };
    return (request) => owner.fetch(request);
  }
  return undefined;
}

/** The routes of a Fetch handler mounted at `prefix`: every method, on the prefix and everything below it. */
export function fetchRoutes(prefix: string, handler: FetchHandler, options: FetchMountOptions = {}): RouteDefinition[] {
  const strip = options.stripPrefix ?? true;
  const run = async (req: HttpRequest) => {
    const returned: unknown = await handler(webRequest(req, strip ? prefix : ""));
    if (returned instanceof Response) return returned;
    // A Response of a Fetch ponyfill (GraphQL Yoga's @whatwg-node) is one in all but its class.
    if (isResponseLike(returned))
      return new Response(returned.body, { status: returned.status, statusText: returned.statusText, headers: returned.headers });
    throw new TypeError(`the handler mounted at "${prefix || "/"}" returned ${describeValue(returned)}, not a Response`);
  };
  const paths = prefix === "" ? ["/*"] : [prefix, `${prefix}/*`];
  return paths.flatMap((path) =>
    httpMethods.map((method) => ({ ...frameworkRoute(path, `fetch handler at ${prefix || "/"}`, run), method, rawRequest: true })),
  );
}

/** The request as the Fetch API has it: its URL (without the prefix), headers, a streamed body and the client's leaving as its signal. */
function webRequest(req: HttpRequest, prefix: string): Request {
  const incoming = (req as RawRequest)[incomingKey];
  const path = prefix === "" ? req.path : req.path.slice(prefix.length) || "/";
  const query = req.url.indexOf("?");
  const target = path + (query < 0 ? "" : req.url.slice(query));
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [String(value)]) headers.append(name, item);
  }
  const method = req.method;
  const hasBody = method !== "GET" && method !== "HEAD" && incoming !== undefined && bodyExpected(incoming);
  const init: RequestInit & { duplex?: "half" } = { method, headers, signal: req.signal };
  if (hasBody) {
    init.body = limitedBody(incoming!, (req as RawRequest)[bodyLimitKey] ?? Number.POSITIVE_INFINITY);
    init.duplex = "half";
  }
  return new Request(urlFor(req, target), init);
}

interface ResponseLike {
  status: number;
  statusText: string;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
}

function isResponseLike(value: unknown): value is ResponseLike {
  if (typeof value !== "object" || value === null) return false;
  const { status, headers, body } = value as Partial<ResponseLike>;
  return typeof status === "number" && typeof headers?.forEach === "function" && (body === null || (typeof body === "object" && body !== undefined));
}

function bodyExpected(incoming: IncomingMessage): boolean {
  const length = incoming.headers["content-length"];
  return (length !== undefined && length !== "0") || incoming.headers["transfer-encoding"] !== undefined;
}

/** The absolute URL a Request needs: the Host the client sent when it is a valid one, else localhost. */
function urlFor(req: HttpRequest, target: string): string {
  const host = req.headers.host;
  if (typeof host === "string" && URL.canParse(`${req.scheme}://${host}/`)) return new URL(target, `${req.scheme}://${host}`).href;
  return new URL(target, `${req.scheme}://localhost`).href;
}

/** The Node request's body as a web stream, read only as the handler reads it, cut with a 413 past `limit` bytes. */
function limitedBody(incoming: IncomingMessage, limit: number): ReadableStream<Uint8Array> {
  const chunks = incoming[Symbol.asyncIterator]();
  let seen = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await chunks.next();
        if (done) return controller.close();
        const chunk = value as Buffer;
        seen += chunk.length;
        if (seen > limit) {
          controller.error(tooLarge(limit));
          void chunks.return?.();
          return;
        }
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch (error) {
        controller.error(error);
      }
    },
    cancel() {
      void chunks.return?.();
    },
  });
}
