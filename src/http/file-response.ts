// `file()`: a response whose body is a file on disk (FastAPI's FileResponse). Only the path and
// the options are kept here; the file is opened when the answer is sent (prepare-file.ts).
import { basename, extname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describeValue } from "../pool/protocol.js";
import { addCookies } from "./cookies.js";
import { FileBody } from "./file-body.js";
import { asResponse, type HeaderValue, type OutgoingResponse, type ResponseInit } from "./response.js";
import { sendParts } from "./send-parts.js";

export interface FileInit extends ResponseInit {
  /**
   * Offers the file as a download of this name: `Content-Disposition: attachment`, with the
   * name encoded for any language (RFC 6266 and 5987). The type is then guessed from it.
   */
  filename?: string;
  /** `"attachment"` (the default: saved) or `"inline"` (shown by the browser, saved under `filename`). */
  disposition?: "attachment" | "inline";
  /** The media type; default: from the extension of `filename`, else of the path (`application/octet-stream` when unknown). */
  contentType?: string;
  /** Send an ETag, so `If-None-Match` gets a 304 and `If-Range` works (default true). */
  etag?: boolean;
  /** Send Last-Modified, so `If-Modified-Since` gets a 304 (default true). */
  lastModified?: boolean;
}

/**
 * A file sent from disk, streamed with backpressure: Content-Type from its extension,
 * Content-Length, ETag and Last-Modified, conditional requests (304) and single byte ranges
 * (206). A file that does not exist or cannot be read when the answer is sent gives 404. A
 * relative path is taken from the current directory. Works on both lanes: a worker's file
 * response is opened on the main thread.
 *
 *     app.get("/report", async () => file("reports/latest.pdf", { filename: "report.pdf" }));
 */
export function file(path: string | URL, init: FileInit = {}): OutgoingResponse {
  const absolute = resolve(checkPath(path));
  const named = init.filename === undefined ? undefined : checkFilename(init.filename);
  const headers: Record<string, HeaderValue> = { "content-type": init.contentType ?? contentTypeOf(named ?? absolute) };
  if (named !== undefined) headers["content-disposition"] = contentDisposition(named, init.disposition ?? "attachment");
  Object.assign(headers, init.headers);
  if (init.cookies) addCookies(headers, init.cookies);
  const body = new FileBody(absolute, init.etag ?? true, init.lastModified ?? true);
  return asResponse({ status: init.status ?? 200, headers, body });
}

/** The type of a file name by its extension, with `charset=utf-8` for text. */
export function contentTypeOf(name: string): string {
  return sendParts().mime.contentType(extname(name)) || "application/octet-stream";
}

function checkPath(path: unknown): string {
  const text = path instanceof URL ? fileURLToPath(path) : path;
  if (typeof text !== "string" || text === "") throw new TypeError(`file() takes a path (a string or a file: URL), got ${describeValue(path)}`);
  // The file system would refuse it later; said here, where the stack points at the call.
  if (text.includes("\0")) throw new TypeError("file() got a path with a NUL byte");
  return text;
}

function checkFilename(filename: unknown): string {
  // A path given as the name: only its last part names the download.
  const name = typeof filename === "string" ? basename(filename.replaceAll("\\", "/")) : "";
  if (name === "") throw new TypeError(`file(): filename must be a non-empty file name, got ${describeValue(filename)}`);
  return name;
}

/**
 * `attachment; filename="..."`, plus `filename*=UTF-8''...` when the name is not plain ASCII
 * (RFC 6266): old clients read the ASCII fallback, every current browser the exact name.
 *
 *     contentDisposition("résumé.pdf", "attachment")
 *     // → `attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`
 */
export function contentDisposition(filename: string, type: "attachment" | "inline"): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const header = `${type}; filename="${fallback}"`;
  // A fallback with %XX in it would be decoded by some clients: the exact name is given too.
  if (fallback === filename && !/%[0-9A-Fa-f]{2}/.test(filename)) return header;
  return `${header}; filename*=UTF-8''${encodeRfc5987(filename)}`;
}

/** Percent-encodes all but RFC 5987's attr-chars; a lone surrogate (no UTF-8 form) becomes U+FFFD. */
function encodeRfc5987(value: string): string {
  const wellFormed = value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
  return encodeURIComponent(wellFormed).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
