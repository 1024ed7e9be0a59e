// How an answer comes back across a lane. A route's response crosses as plain data: status,
// headers, a body of bytes or text, the error behind a 500 (for the log), and the background
// tasks its handler added (plain entries, their functions known by registration key, run from
// the main thread once the response is out). Two bodies cannot cross as they are: a streamed one
// is read whole on the worker first (a plain generator handler streams chunk by chunk instead:
// stream.ts), and a file crosses as its path and options, to be opened where the answer is sent.
// A pooled dependency's value crosses as it is, or its error in the one crossing form.
import { deserialize, serialize } from "node:v8";
import { FileBody, fileKind, isFileBody, type FileSource } from "../http/file-body.js";
import { isStreamBody, readStreamWhole, type RouteResult } from "../http/response.js";
import type { CrossedError } from "./errors.js";

/** On the worker: the response as it can cross (a streamed body read whole; a file left as its source). */
export function encodeResult(result: RouteResult): RouteResult | Promise<RouteResult> {
  return isStreamBody(result.body) && !isFileBody(result.body) ? readStreamWhole(result.body).then((body) => ({ ...result, body })) : result;
}

/** On the main thread: the response as the worker made it (a file's source made a FileBody again). Any other result is left as it is. */
export function decodeResult<T extends { body: unknown }>(result: T): T {
  const body = result.body as Partial<FileSource> | null;
  if (typeof body === "object" && body !== null && body.kind === fileKind && !(body instanceof FileBody)) {
    result.body = new FileBody(String(body.path), body.etag === true, body.lastModified === true);
  }
  return result;
}

/** What a worker sends back for a pooled dependency: its value, or the error it raised, in the crossing form. */
export type DependencyOutcome = { value: unknown; error?: undefined } | { error: CrossedError };

/**
 * The same data as text, for a worker process: the structured-clone algorithm (v8.serialize) as
 * a thread gets it, so a Date, a Map or bytes arrive as they left, in base64 since BullMQ stores
 * JSON. Throws what the structured clone throws (DataCloneError) for what cannot cross.
 */
export function encodeForProcess(value: unknown): string {
  return serialize(value).toString("base64");
}

export function decodeFromProcess<T>(text: string): T {
  return deserialize(Buffer.from(text, "base64")) as T;
}
