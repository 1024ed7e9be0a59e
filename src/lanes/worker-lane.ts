// The main thread's side of the worker lane: a route's request goes to the pool with what every
// task carries (task.ts), as it can cross (request.ts), and its answer comes back as the worker
// made it (results.ts), whole or, from a plain generator handler, as a head and then chunks
// (stream.ts). The worker's side is host.ts.
import { performance } from "node:perf_hooks";
import type { HttpRequest } from "../http/request.js";
import type { RouteResult } from "../http/response.js";
import { TaskKind } from "../pool/protocol.js";
import type { TaskExecutor } from "./executor.js";
import { encodeRequest } from "./request.js";
import { decodeResult } from "./results.js";
import { newChannelName, StreamReceiver, type StreamingPayload } from "./stream.js";
import { requestTask } from "./task.js";

/** Gets a route's response, with where it was made ("worker#N") and how long it waited for a worker, ms. */
export type Answer = (result: RouteResult, lane: string, queuedMs: number | undefined) => void;

/** Gets why no response came: one of the pool's errors (src/pool/pool-errors.ts). */
export type Failed = (error: unknown) => void;

/** Runs route `routeId`'s handler on a worker for `req`, within `timeoutMs` (undefined: no limit). */
export type SendRoute = (
  executor: TaskExecutor,
  routeId: number,
  req: HttpRequest,
  timeoutMs: number | undefined,
  answer: Answer,
  fail: Failed,
) => void;

export const sendRoute: SendRoute = (executor, routeId, req, timeoutMs, answer, fail) => {
  executor
    .run<RouteResult>(TaskKind.Route, routeId, encodeRequest(req), requestTask(req, timeoutMs))
    .then((outcome) => answer(decodeResult(outcome.value), `worker#${outcome.slot}`, outcome.queuedMs), fail);
};

/**
 * The same for a plain generator handler: the answer goes out when the worker sends its head,
 * and its body follows chunk by chunk. The task itself ends with the stream; a failure after the
 * head ends the body with the error.
 */
export const sendStreamingRoute: SendRoute = (executor, routeId, req, timeoutMs, answer, fail) => {
  const channel = newChannelName();
  const sentAt = performance.timeOrigin + performance.now();
  const receiver = new StreamReceiver(channel, (head) =>
    answer({ status: head.status, headers: head.headers, body: head.body }, `worker#${head.slot}`, Math.max(0, head.startedAt - sentAt)),
  );
  const payload: StreamingPayload<HttpRequest> = { req: encodeRequest(req), channel };
  executor.run<RouteResult | { streamed: true }>(TaskKind.Route, routeId, payload, requestTask(req, timeoutMs)).then(
    (outcome) => {
      // Streamed: the head answered already, or is on its way on the other channel.
      if ("streamed" in outcome.value) return;
      receiver.close();
      answer(decodeResult(outcome.value), `worker#${outcome.slot}`, outcome.queuedMs);
    },
    (error) => {
      if (receiver.headSeen) return receiver.fail(error);
      receiver.close();
      fail(error);
    },
  );
};
