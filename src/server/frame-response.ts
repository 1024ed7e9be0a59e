// What goes on the wire for a route's answer: its status checked, its body framed by the server
// alone, and a 500 in place of anything that cannot be sent.
import { STATUS_CODES, type ServerResponse } from "node:http";
import { closeSource, internalErrorResult, isStreamBody, type HeaderValue, type RouteResult } from "../http/response.js";
import { describeValue, serializeError } from "../pool/protocol.js";

/** Headers only the server may set: it frames the body itself, so a handler's copy would contradict it. */
const framingHeaders = new Set(["content-length", "transfer-encoding"]);

/**
 * Checks a route's answer and frames it: lower-cased header names (a handler's `Content-Type`
 * replaces the default instead of going out beside it), no `content-length` or
 * `transfer-encoding` from the handler, the server's own `content-length`, and no body at all for
 * 204 and 304. A status outside 200–599 (a 1xx would leave the client waiting for a response that
 * never comes), a body that is neither a string nor bytes, or headers that cannot be read give a
 * 500 whose error says why. Never throws.
 *
 *     frameResponse({ status: 204, headers: { "Content-Length": "2" }, body: "{}" })
 *     // → { status: 204, headers: {}, body: "" }
 */
export function frameResponse(result: RouteResult): RouteResult {
  try {
    const { status, headers, body, error } = result;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      return invalid(`the handler answered with status ${describeValue(status)}; a response status must be an integer from 200 to 599`);
    }
    const streamed = isStreamBody(body);
    if (typeof body !== "string" && !(body instanceof Uint8Array) && !streamed) {
      return invalid(`the response body must be a string, bytes or an async iterable, got ${describeValue(body)}`);
    }
    if (headers === null || typeof headers !== "object") return invalid(`the response headers must be an object, got ${describeValue(headers)}`);
    const framed: Record<string, HeaderValue> = {};
    for (const name of Object.keys(headers)) {
      const lower = name.toLowerCase();
      if (!framingHeaders.has(lower)) framed[lower] = headers[name]!;
    }
    if (status === 204 || status === 304 || status === 205) {
      // 205 Reset Content carries no content either; its empty body is framed as such.
      return { status, headers: status === 205 ? { ...framed, "content-length": "0" } : framed, body: "", error };
    }
    // Its length is known only at the end: Node sends it chunked (HTTP/1.1) or until close (1.0).
    if (streamed) return { status, headers: framed, body, error };
    if (typeof body === "string") {
      framed["content-length"] = String(Buffer.byteLength(body));
      return { status, headers: framed, body, error };
    }
    // An empty view may sit on a detached buffer (transferred away), which Node cannot write: send it as "".
    framed["content-length"] = String(body.byteLength);
    return { status, headers: framed, body: body.byteLength === 0 ? "" : body, error };
  } catch (error) {
    // A getter that throws on the response or its headers, a Proxy: the handler's bug, a 500.
    return frameResponse(internalErrorResult(serializeError(error)));
  }
}

function invalid(message: string): RouteResult {
  return frameResponse(internalErrorResult({ name: "InvalidResponseError", message }));
}

/**
 * Writes a framed response (see frameResponse) and returns what was sent; a streamed body is
 * left for writeStream, after the head. Headers Node refuses
 * to send (a newline or `undefined` in a value, a bad name) are the handler's bug too: a 500,
 * with its own reason phrase (Node would otherwise keep the phrase of the status it refused).
 */
export function writeResponse(res: ServerResponse, result: RouteResult, closing: boolean): RouteResult {
  let sent = frameResponse(result);
  if (closing) sent.headers.connection = "close";
  try {
    res.writeHead(sent.status, sent.headers);
  } catch (error) {
    // Node's stack would point into node:http; the message says what the handler got wrong.
    const why = serializeError(error);
    sent = frameResponse(
      internalErrorResult({ name: "InvalidResponseError", message: `the response headers cannot be sent: ${why.name}: ${why.message}` }),
    );
    if (closing) sent.headers.connection = "close";
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.writeHead(sent.status, STATUS_CODES[sent.status], sent.headers);
  }
  // A streamed body is written by the caller (writeStream), which knows when it ends; one
  // replaced by an error (or dropped for a 204) is stopped here.
  if (isStreamBody(result.body) && sent.body !== result.body) closeSource(result.body);
  if (!isStreamBody(sent.body)) res.end(sent.body);
  return sent;
}
