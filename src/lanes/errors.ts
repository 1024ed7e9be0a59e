// The one form in which an error crosses a lane: from a worker thread to the main thread (a task
// that threw, a pooled dependency, a streamed body that failed), from a worker process back over
// the queue, from a worker that could not start. It is the pool's own plain form (name, message,
// stack) plus what the other side needs to answer as the raising side would have: an HttpError's
// status, and an answer the app's exception handler already made where the error's class was
// known. `encodeError` makes it, `decodeError` raises it again.
import { HttpError } from "../http/http-error.js";
import type { RouteResult } from "../http/response.js";
import { serializeError, type SerializedError } from "../pool/protocol.js";
import { decodeResult } from "./results.js";

export type { SerializedError } from "../pool/protocol.js";

export interface CrossedError extends SerializedError {
  /** An HttpError's status, detail and headers: raised again on the other side, it answers the same. */
  http?: { status: number; detail: unknown; headers: Record<string, string | string[]> };
  /** The app's exception handler answered the error where it was raised: its answer. */
  answer?: RouteResult;
}

/** An error already answered where it was raised (by an exception handler inside a worker): its response travels with it. */
export class AnsweredError extends Error {
  override readonly name = "AnsweredError";
  constructor(readonly result: RouteResult) {
    super(`answered ${result.status}`);
  }
}

/** Any thrown value as plain data that crosses (never throws: see serializeError). */
export function encodeError(error: unknown): CrossedError {
  const crossed: CrossedError = serializeError(error);
  try {
    if (error instanceof HttpError) {
      const http = { status: error.status, detail: error.detail, headers: error.headers };
      // A detail that cannot cross (a function, a class with private state) could not be sent as JSON
      // either: the error crosses as a plain one, answered 500, as the error table answers it here.
      structuredClone(http);
      crossed.http = http;
    }
  } catch {
    // Not an HttpError we can read (a revoked Proxy), or one whose detail cannot cross.
  }
  return crossed;
}

/** An error the app's exception handler answered where it was raised. */
export function answeredError(error: unknown, answer: RouteResult): CrossedError {
  return { ...serializeError(error), answer };
}

/**
 * The error again, on the receiving side: an HttpError that answers with its status, an
 * AnsweredError that carries its answer, else an Error with the raiser's name, message and stack.
 */
export function decodeError(crossed: CrossedError): Error {
  let error: Error;
  if (crossed.answer) error = new AnsweredError(decodeResult(crossed.answer));
  else if (crossed.http) error = new HttpError(crossed.http.status, crossed.http.detail, crossed.http.headers);
  else {
    error = new Error(crossed.message);
    error.name = crossed.name;
  }
  if (crossed.stack !== undefined) error.stack = crossed.stack;
  return error;
}
