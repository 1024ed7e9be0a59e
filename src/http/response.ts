import { describeValue, type SerializedError } from "../pool/protocol.js";
import { addCookies, type CookieJar } from "./cookies.js";
import { isFileBody } from "./file-body.js";
import { encodeJson } from "./json-encoding.js";
import { statusText } from "./status-text.js";

/** A header's value; a list sends the header once per item (several `set-cookie` lines). */
export type HeaderValue = string | string[];

/** One piece of a streamed body: text goes out as UTF-8. */
export type BodyChunk = string | Uint8Array;

/** A body sent piece by piece as it is produced (an async generator, a web ReadableStream, ...). */
export type StreamBody = AsyncIterable<BodyChunk>;

/**
 * A response as plain data: what a worker sends back and what the server writes. Middleware
 * reads and changes it; a streamed body is an async iterable, wrapped rather than read.
 */
export interface OutgoingResponse {
  status: number;
  headers: Record<string, HeaderValue>;
  body: string | Uint8Array | StreamBody;
}

/** A handler's outcome: the response, plus the error behind a 500 so the server can log it. */
export interface RouteResult extends OutgoingResponse {
  error?: SerializedError;
}

export interface ResponseInit {
  /** 200 to 599; anything else is answered 500 (a 1xx would leave the client without a response). */
  status?: number;
  /** `{ "set-cookie": ["a=1", "b=2"] }` sends two cookies. */
  headers?: Record<string, HeaderValue>;
  /** Cookies to set (a value, or a value with its attributes) or, given `null`, to delete: `{ session: { value: id, httpOnly: true } }`. */
  cookies?: CookieJar;
}

const responseBrand = Symbol.for("loopwise.response");
interface BrandedResponse extends OutgoingResponse {
  [responseBrand]: true;
}

const jsonType = "application/json";

function make(body: OutgoingResponse["body"], contentType: string, init: ResponseInit | undefined, defaultStatus = 200): OutgoingResponse {
  const headers: Record<string, HeaderValue> = { "content-type": contentType, ...init?.headers };
  if (init?.cookies) addCookies(headers, init.cookies);
  const response: BrandedResponse = { [responseBrand]: true, status: init?.status ?? defaultStatus, headers, body };
  return response;
}

/**
 * Marks a response object (one the pipeline made) as a response, so a middleware that returns
 * it, or a spread copy of it, has it sent as it is rather than as a JSON value.
 */
export function asResponse<T extends OutgoingResponse>(response: T): T {
  (response as unknown as BrandedResponse)[responseBrand] = true;
  return response;
}

/** A JSON response with a chosen status or headers: `return json(item, { status: 201 })`. */
export function json(value: unknown, init?: ResponseInit): OutgoingResponse {
  return make(stringify(value), jsonType, init);
}

export function text(body: string, init?: ResponseInit): OutgoingResponse {
  return make(checkString(body, "text"), "text/plain; charset=utf-8", init);
}

export function html(body: string, init?: ResponseInit): OutgoingResponse {
  return make(checkString(body, "html"), "text/html; charset=utf-8", init);
}

/** Raw bytes, `application/octet-stream` unless `init.headers` says otherwise. */
export function bytes(body: Uint8Array, init?: ResponseInit): OutgoingResponse {
  if (!(body instanceof Uint8Array)) throw new TypeError(`bytes() takes a Uint8Array (or Buffer), got ${describeValue(body)}`);
  return make(body, "application/octet-stream", init);
}

export function redirect(location: string, status = 307, init?: Omit<ResponseInit, "status">): OutgoingResponse {
  return make("", "text/plain; charset=utf-8", { ...init, status, headers: { ...init?.headers, location: checkString(location, "redirect") } });
}

/**
 * A body sent chunk by chunk as `source` yields it, with backpressure: an async generator, a
 * web `ReadableStream`, any async or sync iterable of strings and bytes. The client leaving
 * stops it (the generator's `finally` runs). `text/plain` unless `init.headers` says otherwise.
 *
 *     app.get("/count", async () => stream(count(), { headers: { "content-type": "text/csv" } }));
 */
export function stream(source: AsyncIterable<BodyChunk> | Iterable<BodyChunk> | ReadableStream<BodyChunk>, init?: ResponseInit): OutgoingResponse {
  const body = Array.isArray(source) ? fromSyncIterable(source) : streamBodyOf(source);
  if (!body) throw new TypeError(`stream() takes an async or sync iterable or a ReadableStream, got ${describeValue(source)}`);
  return make(body, "text/plain; charset=utf-8", init);
}

/** A wrong body is the handler's bug: said here, where its stack points at the call, not later at the socket. */
function checkString(value: unknown, helper: string): string {
  if (typeof value !== "string") throw new TypeError(`${helper}() takes a string, got ${describeValue(value)}`);
  return value;
}

/** Every JSON body goes through one encoder (json-encoding.ts): Maps, bigints, bytes and class instances included. */
const stringify = encodeJson;

/**
 * Turns what a handler returned into a response. Plain values become JSON with the route's
 * status; `json()`/`text()`/... and web `Response` objects keep their own status and headers.
 */
export function toResult(value: unknown, status: number): RouteResult | Promise<RouteResult> {
  // The common case first: a plain object or array is JSON. Only its own fields could make it a
  // response or a stream, and the checks below cost more (a web Response's global is a getter).
  if (isPlainData(value) && status !== 204 && status !== 304) return { status, headers: { "content-type": jsonType }, body: stringify(value) };
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    // A generator or stream returned as it is: streamed as text, the route's status kept.
    const body = streamBodyOf(value);
    if (body) return { status, headers: { "content-type": "text/plain; charset=utf-8" }, body };
  }
  if (isResponseObject(value)) {
    if (responseBrand in value) {
      const { status: s, headers, body } = value as unknown as OutgoingResponse;
      // Headers copied: the server adds its own, and a response object may be reused across requests.
      return { status: s, headers: { ...headers }, body };
    }
    if (isWebResponse(value)) return fromWebResponse(value);
    if (value instanceof Uint8Array) return { status, headers: { "content-type": "application/octet-stream" }, body: value };
  }
  if (status === 204 || status === 304) return { status, headers: {}, body: "" };
  return { status, headers: { "content-type": jsonType }, body: stringify(value) };
}

const objectPrototype = Object.prototype;
const arrayPrototype = Array.prototype;

/** An array, or an object straight from a literal that is neither a response object nor iterable: a JSON value. */
function isPlainData(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  const prototype = Object.getPrototypeOf(value);
  if (prototype === arrayPrototype) return true;
  return (
    (prototype === objectPrototype || prototype === null) &&
    !(responseBrand in value) &&
    !(Symbol.asyncIterator in value) &&
    !(Symbol.iterator in value)
  );
}

/** A value that already is a response (a `json()`/`text()`... result, a web Response, bytes, a stream): sent as it is, never validated. */
export function isResponseObject(value: unknown): value is object {
  return (
    value !== null &&
    typeof value === "object" &&
    (responseBrand in value || isWebResponse(value) || value instanceof Uint8Array || isGenerator(value) || Symbol.asyncIterator in value)
  );
}

/**
 * Whether a value is a web `Response`. Node makes the `Response` global on first use, by loading
 * its fetch implementation: about 16 ms of CPU and 2 MB of heap in every thread that reads it. So
 * it is read only for a value that looks like one (a status, headers, a body to read).
 */
function isWebResponse(value: object): value is Response {
  const candidate = value as Partial<Response>;
  return (
    typeof candidate.arrayBuffer === "function" && typeof candidate.status === "number" && typeof Response === "function" && value instanceof Response
  );
}

function fromWebResponse(response: Response): RouteResult {
  const headers: Record<string, HeaderValue> = {};
  // forEach gives each Set-Cookie apart; keyed by name, all but the last would be lost.
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  // The body streams as the Response produces it, never read whole first.
  return { status: response.status, headers, body: response.body ?? "" };
}

/** Whether a body is streamed (an async iterable) rather than a string or bytes already whole. */
export function isStreamBody(body: OutgoingResponse["body"]): body is StreamBody {
  return typeof body === "object" && body !== null && Symbol.asyncIterator in body;
}

/**
 * A streamed body for a value that produces one: async iterables and web ReadableStreams as
 * they are, a sync generator or iterable read one item at a time as the socket takes them.
 * Undefined for anything else (arrays, maps and sets are JSON values, not streams).
 */
export function streamBodyOf(value: unknown): StreamBody | undefined {
  if (value === null || typeof value !== "object" || value instanceof Uint8Array || typeof value === "string") return undefined;
  if (Symbol.asyncIterator in value) return value as StreamBody;
  if (isGenerator(value) || (Symbol.iterator in value && !Array.isArray(value) && !(value instanceof Map) && !(value instanceof Set))) {
    return fromSyncIterable(value as Iterable<BodyChunk>);
  }
  return undefined;
}

function isGenerator(value: object): value is Generator {
  return Object.prototype.toString.call(value) === "[object Generator]";
}

async function* fromSyncIterable(source: Iterable<BodyChunk>): StreamBody {
  yield* source;
}

const internalErrorBody = stringify({ detail: "Internal Server Error" });

/** The bare 500: what went wrong goes to the log only. */
export function internalErrorResult(error: SerializedError): RouteResult {
  return { status: 500, headers: { "content-type": jsonType }, body: internalErrorBody, error };
}

/** The response for a status the framework itself answers with (404, 405, 413, ...): `{"detail": ...}`. */
export function statusResult(
  status: number,
  detail: unknown = statusText(status) ?? "Error",
  headers: Record<string, HeaderValue> = {},
): RouteResult {
  return { status, headers: { ...headers, "content-type": jsonType }, body: stringify({ detail }) };
}

/** Stops a streamed body that will not be read to its end (its generator's `finally` runs); a source whose `return()` fails has nothing left to tell anyone. */
export function closeSource(source: AsyncIterator<unknown> | StreamBody): void {
  try {
    const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source;
    iterator.return?.()?.catch(() => {});
  } catch {
    // A return() that throws synchronously: the same.
  }
}

const notYet = Symbol("not yet");

/**
 * Starts a streamed body before its head is sent: a source that fails at once (a generator
 * that raises an HttpError before its first chunk) rejects here, so the failure is answered
 * like a handler's instead of dropping a connection mid-body. A first chunk not ready within
 * one turn of the loop is not waited for: the head goes out and the body follows.
 */
export function primeStream(result: RouteResult): RouteResult | Promise<RouteResult> {
  // A file is opened when it is sent, where its request's Range and validators are known.
  if (!isStreamBody(result.body) || isFileBody(result.body)) return result;
  const iterator = result.body[Symbol.asyncIterator]();
  const first = iterator.next();
  // Whoever reads the body later sees this rejection; until then it is not unhandled.
  first.catch(() => {});
  const aTurn = new Promise<typeof notYet>((resolve) => setImmediate(resolve, notYet));
  return Promise.race([first, aTurn]).then(() => ({ ...result, body: startingWith(first, iterator) }));
}

/** The rest of a body whose first `next()` was already asked for. */
function startingWith(first: Promise<IteratorResult<BodyChunk>>, iterator: AsyncIterator<BodyChunk>): StreamBody {
  let pending: Promise<IteratorResult<BodyChunk>> | undefined = first;
  const rest: AsyncIterator<BodyChunk> = {
    next: () => {
      const next = pending ?? iterator.next();
      pending = undefined;
      return next;
    },
    return: async () => {
      pending = undefined;
      return (await iterator.return?.()) ?? { done: true, value: undefined };
    },
  };
  return { [Symbol.asyncIterator]: () => rest };
}

/** Reads a streamed body to its end, into one buffer. */
export async function readStreamWhole(body: StreamBody): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  return Buffer.concat(chunks);
}
