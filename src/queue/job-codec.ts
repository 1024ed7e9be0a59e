// What a route job carries through Redis, both ways: the task and the answer a worker thread
// would get (src/lanes: the request as it crosses, the caller's context; the response as plain
// data), serialised as a worker process needs them. What cannot cross fails here, with the route's
// name, not on a worker.
import type { HttpRequest } from "../http/request.js";
import { internalErrorResult, type RouteResult } from "../http/response.js";
import { isFileBody } from "../http/file-body.js";
import { encodeError } from "../lanes/errors.js";
import { RequestCloneError } from "../lanes/queue-errors.js";
import { encodeRequest, uploadsOf } from "../lanes/request.js";
import { decodeFromProcess, encodeForProcess } from "../lanes/results.js";
import type { TaskContext } from "../lanes/task.js";

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
  /** With an Idempotency-Key: what the request asked (method, target, body), hashed, so a key reused for another request is told apart. */
  fingerprint?: string;
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
  context: TaskContext | undefined;
}

export function encodeJobRequest(request: HttpRequest, context: TaskContext | undefined): string {
  const crossing = encodeRequest(request);
  // A spooled upload crosses to a thread as its path; another machine cannot read that path.
  const spooled = uploadsOf(crossing).find((upload) => upload.path !== undefined);
  if (spooled) {
    throw new RequestCloneError(
      `cannot be sent to a queue worker: its upload ${JSON.stringify(spooled.name)} (${spooled.size} bytes) was spooled to disk here, where a worker process on another machine cannot read it; keep large uploads off the queue lane`,
    );
  }
  try {
    return encodeForProcess({ request: crossing, context } satisfies CarriedRequest);
  } catch (error) {
    throw new RequestCloneError(`cannot be sent to a queue worker: ${encodeError(error).message}`);
  }
}

export function decodeJobRequest(text: string): CarriedRequest {
  return decodeFromProcess<CarriedRequest>(text);
}

/** The answer as it travels; one that cannot go (a file, what cannot be serialised) becomes a 500 that says why. */
export function encodeJobResult(result: RemoteResult): string {
  if (isFileBody(result.body)) {
    // A file is opened by the process that sends the answer, which may be on another machine.
    const message = `a queue-lane route cannot answer with file() (${result.body.path}): the server that sends the answer may not see this process's files; return the bytes, or give the route another lane`;
    return encodeForProcess({ ...result, ...internalErrorResult({ name: "ResultCloneError", message }) });
  }
  try {
    return encodeForProcess(result);
  } catch (error) {
    const failure = internalErrorResult({
      name: "ResultCloneError",
      message: `the response cannot be sent back from the worker: ${encodeError(error).message}`,
    });
    return encodeForProcess({ ...result, ...failure });
  }
}

export function decodeJobResult(text: unknown): RemoteResult {
  if (typeof text !== "string") throw new TypeError(`a queue worker answered with ${typeof text}, not an encoded result`);
  return decodeFromProcess<RemoteResult>(text);
}
