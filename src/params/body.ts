import type { IncomingMessage } from "node:http";
import { drainThen } from "./drain.js";
import { HttpError } from "../http/http-error.js";
import { defaultJsonDepthLimit, jsonNestedDeeperThan } from "./json-depth.js";
import { parseQuery } from "./query.js";
import { markFormBody } from "./form-body.js";
import { defaultFormLimits } from "./form-limits.js";

/** Whether the request announces a body at all (GET without one skips reading entirely). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined;
}

/**
 * Reads the whole body, refusing with 413 as soon as it is known to exceed `limit` bytes:
 * from Content-Length before reading anything, or while streaming a chunked body.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        drainThen(req, () => reject(tooLarge(limit)));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new HttpError(400, `Could not read the request body: ${error.message}`));
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

export function tooLarge(limit: number): HttpError {
  return new HttpError(413, `Request body is larger than the limit of ${limit} bytes`, { connection: "close" });
}

/**
 * Turns the raw body into what a handler sees, by media type: JSON → value, form → fields,
 * text → string, anything else → bytes. Malformed JSON is a 400 that says where it broke; so is
 * JSON nested deeper than `jsonDepthLimit` levels, refused before it is parsed, and a form of
 * more than `maxFields` fields, counted before it is parsed.
 */
export function parseBody(
  raw: Buffer,
  contentType: string | undefined,
  accepts?: string[],
  jsonDepthLimit = defaultJsonDepthLimit,
  maxFields = defaultFormLimits.maxFields,
): unknown {
  if (raw.length === 0) return undefined;
  const mediaType = (contentType ?? "").split(";", 1)[0]!.trim().toLowerCase();
  if (accepts && !accepts.includes(mediaType)) {
    throw new HttpError(415, `Unsupported Media Type: this route takes ${accepts.join(" or ")}, got ${mediaType || "no Content-Type"}`);
  }
  if (mediaType === "application/json" || mediaType.endsWith("+json")) {
    if (jsonNestedDeeperThan(raw, jsonDepthLimit)) throw new HttpError(400, `JSON body nested deeper than ${jsonDepthLimit} levels`);
    try {
      return JSON.parse(raw.toString("utf8"));
    } catch (error) {
      throw new HttpError(400, `Malformed JSON body: ${(error as Error).message}`);
    }
  }
  if (mediaType === "application/x-www-form-urlencoded") {
    if (fieldsIn(raw, maxFields) > maxFields) throw new HttpError(413, `Too many form fields: this route takes at most ${maxFields}`);
    return markFormBody(parseQuery(raw.toString("utf8")));
  }
  if (mediaType.startsWith("text/")) return raw.toString("utf8");
  // A copy: a view would drag the whole (possibly pooled) buffer along when cloned to a worker.
  return new Uint8Array(raw);
}

/** The `&`-separated fields of a urlencoded body (empty ones do not count), up to one past `most`. */
function fieldsIn(raw: Uint8Array, most: number): number {
  let fields = 0;
  let inField = false;
  for (let i = 0; i < raw.length && fields <= most; i++) {
    if (raw[i] === 0x26 /* & */) inField = false;
    else if (!inField) {
      inField = true;
      fields++;
    }
  }
  return fields;
}
