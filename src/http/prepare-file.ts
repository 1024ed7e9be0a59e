// What a request makes of a file response, decided once its headers are known and the file is
// open: the whole file (200), a part of it (206), "you have it already" (304), a failed
// precondition (412), a range it does not have (416), or 404 when there is no file to send.
// Range and freshness come from the jshttp packages `send` is built on (send-parts.ts).
import { STATUS_CODES } from "node:http";
import { serializeError } from "../pool/protocol.js";
import type { FileBody } from "./file-body.js";
import { FileRange, openRegularFile, type OpenedFile } from "./open-file.js";
import type { Headers } from "./request.js";
import type { HeaderValue, RouteResult } from "./response.js";
import { type ByteRange, sendParts } from "./send-parts.js";

/** What of the request decides the answer. */
export interface FileRequest {
  method: string;
  headers: Headers;
}

/** Headers that describe the file's bytes: dropped when something else is sent in their place. */
const representation = ["content-type", "content-disposition", "content-encoding", "content-language", "accept-ranges", "etag", "last-modified"];

/** Why a file cannot be sent that means "there is no such file here" (as opposed to a fault of the server). */
const notThere = new Set(["ENOENT", "ENOTDIR", "EACCES", "EPERM", "ELOOP", "ENAMETOOLONG", "EISDIR", "ENOTFILE"]);

/**
 * Opens the file of `result` (whose body is a FileBody) and makes `result` the answer to
 * `request`, in place: status, headers and a body reading the bytes to send. Never rejects:
 * a file that is missing or unreadable is a 404, any other failure (too many open files) a 500
 * whose error goes to the log.
 */
export async function prepareFile(result: RouteResult, request: FileRequest): Promise<void> {
  const body = result.body as FileBody;
  let opened: OpenedFile;
  try {
    opened = await openRegularFile(body.path);
  } catch (error) {
    body.done();
    const code = (error as { code?: string }).code;
    if (code !== undefined && notThere.has(code)) return replace(result, 404);
    result.error = serializeError(error);
    return replace(result, 500);
  }
  try {
    decide(result, request, body, opened);
  } catch (error) {
    // A header of the handler's that the validators cannot read: its bug, a 500.
    opened.handle.close();
    body.done();
    result.error = serializeError(error);
    replace(result, 500);
  }
}

function decide(result: RouteResult, request: FileRequest, body: FileBody, { handle, stats }: OpenedFile): void {
  const { headers } = result;
  const parts = sendParts();
  if (body.etag && headers.etag === undefined) headers.etag = parts.etag(stats, { weak: false });
  if (body.lastModified && headers["last-modified"] === undefined) headers["last-modified"] = stats.mtime.toUTCString();
  const size = stats.size;
  const outcome = negotiate(result, request, size);
  const sent = () => body.done();
  if (outcome === "whole") {
    result.body = new FileRange(handle, 0, size, body.path, sent);
  } else if (typeof outcome === "object") {
    result.status = 206;
    headers["content-range"] = `bytes ${outcome.start}-${outcome.end}/${size}`;
    result.body = new FileRange(handle, outcome.start, outcome.end - outcome.start + 1, body.path, sent);
  } else {
    handle.close();
    body.done();
    if (outcome === 304) notModified(result);
    else replace(result, outcome, outcome === 416 ? { "content-range": `bytes */${size}` } : {});
  }
}

/** What to send of a file of `size` bytes, given the validators already in the response's headers. */
function negotiate(result: RouteResult, request: FileRequest, size: number): "whole" | ByteRange | 304 | 412 | 416 {
  // Conditions and ranges are about reading a resource: a file sent with another status, or in
  // answer to another method, goes out whole.
  if (result.status !== 200 || (request.method !== "GET" && request.method !== "HEAD")) return "whole";
  const { headers } = result;
  headers["accept-ranges"] = "bytes";
  const asked = request.headers;
  if (preconditionFailed(asked, headers)) return 412;
  if (sendParts().fresh(asked, headers)) return 304;
  const range = singleRange(asked, headers, size);
  if (range === "unsatisfiable") return 416;
  return range ?? "whole";
}

/** The answer becomes `{"detail": ...}` with `status`; what described the file goes, the rest (cookies, a request id) stays. */
function replace(result: RouteResult, status: number, extra: Record<string, string> = {}): void {
  for (const name of representation) delete result.headers[name];
  Object.assign(result.headers, extra, { "content-type": "application/json" });
  result.status = status;
  result.body = JSON.stringify({ detail: STATUS_CODES[status] });
}

function notModified(result: RouteResult): void {
  // A 304 keeps the validators and caching headers, not the body's description (RFC 9110 §15.4.5).
  for (const name of ["content-type", "content-disposition", "accept-ranges"]) delete result.headers[name];
  result.status = 304;
  result.body = "";
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** If-Match (strong comparison) or, without it, If-Unmodified-Since (RFC 9110 §13.1.1, §13.1.4). */
function preconditionFailed(asked: Headers, sent: Record<string, HeaderValue>): boolean {
  const ifMatch = header(asked, "if-match");
  if (ifMatch !== undefined) {
    if (ifMatch.trim() === "*") return false;
    const etag = sent.etag;
    if (typeof etag !== "string" || etag.startsWith("W/")) return true;
    return !ifMatch.split(",").some((tag) => tag.trim() === etag);
  }
  const since = Date.parse(header(asked, "if-unmodified-since") ?? "");
  const modified = sent["last-modified"];
  return !Number.isNaN(since) && typeof modified === "string" && Date.parse(modified) > since;
}

/**
 * The one byte range asked for, "unsatisfiable", or undefined to send the whole file: no
 * Range, an If-Range that no longer holds, a unit other than bytes, a malformed or invalid
 * header, or several ranges apart (answering those whole is allowed, and spares a multipart body;
 * ranges that overlap or touch are merged into one first, as RFC 9110 §14.2 allows).
 */
function singleRange(asked: Headers, sent: Record<string, HeaderValue>, size: number): ByteRange | "unsatisfiable" | undefined {
  const range = header(asked, "range");
  if (range === undefined || !ifRangeHolds(header(asked, "if-range"), sent)) return undefined;
  const equals = range.indexOf("=");
  if (equals < 0 || range.slice(0, equals).trim().toLowerCase() !== "bytes") return undefined;
  const specs = range.slice(equals + 1).split(",");
  // `bytes=5-2` is invalid rather than unsatisfiable (RFC 9110 §14.1.1): the header is ignored.
  if (specs.some(backwards)) return undefined;
  // range-parser refuses a suffix longer than the file; RFC 9110 §14.1.2 means the whole file by it.
  const clamped = specs.map((spec) => spec.replace(/^\s*-\s*(\d+)\s*$/, (whole, n: string) => (Number(n) > size ? "0-" : whole)));
  const ranges = sendParts().rangeParser(size, `bytes=${clamped.join(",")}`, { combine: true });
  if (ranges === -2) return undefined;
  if (ranges === -1) return "unsatisfiable";
  return ranges.length === 1 ? ranges[0] : undefined;
}

function backwards(spec: string): boolean {
  const bounds = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(spec);
  return bounds !== null && Number(bounds[2]) < Number(bounds[1]);
}

/** If-Range: the range is sent only for the version the client has (a strong ETag, or exactly the Last-Modified date). */
function ifRangeHolds(ifRange: string | undefined, sent: Record<string, HeaderValue>): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith("W/")) {
    const etag = sent.etag;
    return typeof etag === "string" && !etag.startsWith("W/") && value === etag;
  }
  const date = Date.parse(value);
  const modified = sent["last-modified"];
  return !Number.isNaN(date) && typeof modified === "string" && Date.parse(modified) === date;
}
