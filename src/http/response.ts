import { STATUS_CODES } from "node:http";
import { describeValue, type SerializedError } from "../pool/protocol.js";

/** A header's value; a list sends the header once per item (several `set-cookie` lines). */
export type HeaderValue = string | string[];

/** A response as plain data: what a worker sends back and what the server writes. */
export interface OutgoingResponse {
  status: number;
  headers: Record<string, HeaderValue>;
  body: string | Uint8Array;
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
}

const responseBrand = Symbol.for("loopwise.response");
interface BrandedResponse extends OutgoingResponse {
  [responseBrand]: true;
}

const jsonType = "application/json";

function make(body: string | Uint8Array, contentType: string, init: ResponseInit | undefined, defaultStatus = 200): OutgoingResponse {
  const response: BrandedResponse = {
    [responseBrand]: true,
    status: init?.status ?? defaultStatus,
    headers: { "content-type": contentType, ...init?.headers },
    body,
  };
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

export function redirect(location: string, status = 307): OutgoingResponse {
  return make("", "text/plain; charset=utf-8", { status, headers: { location: checkString(location, "redirect") } });
}

/** A wrong body is the handler's bug: said here, where its stack points at the call, not later at the socket. */
function checkString(value: unknown, helper: string): string {
  if (typeof value !== "string") throw new TypeError(`${helper}() takes a string, got ${describeValue(value)}`);
  return value;
}

function stringify(value: unknown): string {
  return JSON.stringify(value) ?? "null";
}

/**
 * Turns what a handler returned into a response. Plain values become JSON with the route's
 * status; `json()`/`text()`/... and web `Response` objects keep their own status and headers.
 */
export function toResult(value: unknown, status: number): RouteResult | Promise<RouteResult> {
  if (isResponseObject(value)) {
    if (responseBrand in value) {
      const { status: s, headers, body } = value as unknown as OutgoingResponse;
      // Headers copied: the server adds its own, and a response object may be reused across requests.
      return { status: s, headers: { ...headers }, body };
    }
    if (typeof Response === "function" && value instanceof Response) return fromWebResponse(value);
    if (value instanceof Uint8Array) return { status, headers: { "content-type": "application/octet-stream" }, body: value };
  }
  if (status === 204 || status === 304) return { status, headers: {}, body: "" };
  return { status, headers: { "content-type": jsonType }, body: stringify(value) };
}

/** A value that already is a response (a `json()`/`text()`... result, a web Response, bytes): sent as it is, never validated. */
export function isResponseObject(value: unknown): value is object {
  return (
    value !== null &&
    typeof value === "object" &&
    (responseBrand in value || (typeof Response === "function" && value instanceof Response) || value instanceof Uint8Array)
  );
}

async function fromWebResponse(response: Response): Promise<RouteResult> {
  const headers: Record<string, HeaderValue> = {};
  // forEach gives each Set-Cookie apart; keyed by name, all but the last would be lost.
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  return { status: response.status, headers, body: new Uint8Array(await response.arrayBuffer()) };
}

const internalErrorBody = stringify({ detail: STATUS_CODES[500] });

/** The bare 500: what went wrong goes to the log only. */
export function internalErrorResult(error: SerializedError): RouteResult {
  return { status: 500, headers: { "content-type": jsonType }, body: internalErrorBody, error };
}

/** The response for a status the framework itself answers with (404, 405, 413, ...): `{"detail": ...}`. */
export function statusResult(
  status: number,
  detail: unknown = STATUS_CODES[status] ?? "Error",
  headers: Record<string, HeaderValue> = {},
): RouteResult {
  return { status, headers: { ...headers, "content-type": jsonType }, body: stringify({ detail }) };
}
