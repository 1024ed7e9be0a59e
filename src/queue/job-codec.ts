// What a route job carries through Redis, both ways. The request crosses to a worker process as
// it crosses to a worker thread: by the structured-clone algorithm (v8.serialize), so a Date, a
// Map or bytes in a validated body arrive as they left, and what cannot be cloned fails here,
// with the route's name, not on a worker. BullMQ stores JSON, so the bytes travel as base64.
import { deserialize, serialize } from "node:v8";
import type { HttpRequest } from "../http/request.js";
import type { RouteResult } from "../http/response.js";

/** The data of a route job (BullMQ's `job.data`). Kept small: Redis and the events stream hold it. */
export interface RouteJobData {
  kind: "route";
  /** "GET /render": the route's method and pattern, the same on every machine (route ids may differ between versions). */
  route: string;
  /** The validated request and the caller's context variables, serialised. */
  request: string;
  /** Epoch ms after which nobody waits for the answer: a worker that takes the job later skips it. */
  deadline: number;
  /** The route's time limit the server applied, ms. */
  timeoutMs: number;
}

/** The data of a durable job: its input, as JSON. */
export interface DurableJobData {
  kind: "durable";
  input: unknown;
}

export type JobData = RouteJobData | DurableJobData;

/** What a worker process sends back for a route job. */
export interface RemoteResult extends RouteResult {
  /** Where it ran there: "loop" or "worker#N". */
  lane: string;
  /** The worker process: "host:pid". */
  worker: string;
  /** Time the worker process spent on it, from taking the job to its answer, ms. */
  runMs: number;
  /** Part of that spent waiting for a worker thread (or the route's bulkhead) there, ms. */
  poolWaitMs: number | undefined;
}

export interface CarriedRequest {
  request: HttpRequest;
  context: Record<string, unknown> | undefined;
}

/** A request that could not be serialised: the handler's input holds a function, a class with private state, ... */
export class RequestCloneError extends Error {
  override readonly name = "RequestCloneError";
}

export function encodeRequest(request: HttpRequest, context: Record<string, unknown> | undefined): string {
  // Own fields only, as a worker thread gets them: the signal and the socket stay behind.
  const { method, url, path, params, query, headers, cookies, body, client } = request;
  try {
    return serialize({ request: { method, url, path, params, query, headers, cookies, body, client }, context }).toString("base64");
  } catch (error) {
    throw new RequestCloneError(`cannot be sent to a queue worker: ${(error as Error).message}`);
  }
}

export function decodeRequest(text: string): CarriedRequest {
  return deserialize(Buffer.from(text, "base64")) as CarriedRequest;
}

export function encodeResult(result: RemoteResult): string {
  return serialize(result).toString("base64");
}

export function decodeResult(text: unknown): RemoteResult {
  if (typeof text !== "string") throw new TypeError(`a queue worker answered with ${typeof text}, not an encoded result`);
  return deserialize(Buffer.from(text, "base64")) as RemoteResult;
}
