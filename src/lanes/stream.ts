// A plain generator handler streams from its worker: each chunk it yields crosses to the main
// thread as it comes, over a BroadcastChannel named for the request (no port to transfer, so
// the pool carries the task like any other). The worker keeps at most `window` chunks ahead of
// the socket, so a slow client holds the generator back; the client leaving (the task's signal)
// stops it and its `finally` runs on the worker.
import { BroadcastChannel } from "node:worker_threads";
import type { HeaderValue, RouteResult, StreamBody } from "../http/response.js";
import { workerSlot } from "../pool/identity.js";
import { decodeError, encodeError, type CrossedError } from "./errors.js";

/** Chunks in flight before the worker waits for the main thread to take more. */
const window = 16;

type FromWorker =
  | { t: "head"; status: number; headers: Record<string, HeaderValue>; slot: number | undefined; startedAt: number }
  | { t: "chunk"; data: string | Uint8Array }
  | { t: "end" }
  | { t: "error"; error: CrossedError };
type FromMain = { t: "ack" } | { t: "cancel" };

/** What a streaming route's task carries: the request and the channel its chunks come back on. */
export interface StreamingPayload<Req> {
  req: Req;
  channel: string;
}

/** Whether a route's handler streams from its worker: a plain (sync) generator function on the worker lane. */
export function streamsFromWorker(handler: Function, lane: string): boolean {
  return lane === "worker" && Object.prototype.toString.call(handler) === "[object GeneratorFunction]";
}

let channels = 0;
/** A channel name no other request of this process uses. */
export function newChannelName(): string {
  return `loopwise:stream:${++channels}`;
}

/** The head the worker sent, with the body that follows it. */
export interface StreamedHead {
  status: number;
  headers: Record<string, HeaderValue>;
  body: StreamBody;
  slot: number | undefined;
  /** Epoch ms when the worker started the task. */
  startedAt: number;
}

/**
 * The main thread's end: `onHead` gets the head once the handler has returned its generator;
 * the body then yields what the worker sends. `taskFailed` ends a body whose task died.
 */
export class StreamReceiver {
  private readonly channel: BroadcastChannel;
  private readonly chunks: (string | Uint8Array)[] = [];
  private ended = false;
  private failure: unknown;
  private wake: (() => void) | undefined;
  private stopped = false;
  headSeen = false;

  constructor(name: string, onHead: (head: StreamedHead) => void) {
    this.channel = new BroadcastChannel(name);
    this.channel.onmessage = (event: unknown) => {
      const message = (event as { data: FromWorker }).data;
      if (message.t === "head") {
        this.headSeen = true;
        onHead({ status: message.status, headers: message.headers, body: this.body(), slot: message.slot, startedAt: message.startedAt });
        return;
      }
      if (message.t === "chunk") this.chunks.push(message.data);
      else if (message.t === "end") this.ended = true;
      else this.fail(decodeError(message.error));
      this.wake?.();
    };
  }

  /** The task ended without a head (the handler threw, or returned no generator): nothing will come. */
  close(): void {
    this.stopped = true;
    this.channel.close();
  }

  /** The task failed (a timeout, a dead worker) after the head: the body ends with the error. */
  fail(error: unknown): void {
    this.failure ??= error;
    this.wake?.();
  }

  /** An iterator of its own rather than a generator: one closed before its first read must still tell the worker to stop. */
  private body(): StreamBody {
    const iterator: AsyncIterator<string | Uint8Array> = {
      next: () => this.next(),
      return: async () => {
        this.stop();
        return { done: true, value: undefined };
      },
    };
    return { [Symbol.asyncIterator]: () => iterator };
  }

  private async next(): Promise<IteratorResult<string | Uint8Array>> {
    while (true) {
      if (this.chunks.length > 0) {
        this.channel.postMessage({ t: "ack" } satisfies FromMain);
        return { done: false, value: this.chunks.shift()! };
      }
      if (this.failure !== undefined) {
        this.stop();
        throw this.failure;
      }
      if (this.ended) {
        this.stop();
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** Tells a worker still sending to stop (its generator's `finally` runs there), once. */
  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (!this.ended && this.failure === undefined) this.channel.postMessage({ t: "cancel" } satisfies FromMain);
    this.channel.close();
  }
}

/**
 * The worker's end: sends the head, then each chunk of `result.body`, waiting whenever `window`
 * chunks are unacknowledged. Resolves when the body ended, the client left, or it failed
 * (then the main thread is told, and the connection dropped there).
 */
export async function sendStream(
  name: string,
  result: RouteResult,
  body: StreamBody,
  signal: AbortSignal | undefined,
  /** Epoch ms when the task started, for the queue wait the access log shows. */
  startedAt: number,
): Promise<{ streamed: true }> {
  const channel = new BroadcastChannel(name);
  let unacked = 0;
  let cancelled = false;
  let wake: (() => void) | undefined;
  channel.onmessage = (event: unknown) => {
    const message = (event as { data: FromMain }).data;
    if (message.t === "ack") unacked--;
    else cancelled = true;
    wake?.();
  };
  const onAbort = () => {
    cancelled = true;
    wake?.();
  };
  signal?.addEventListener("abort", onAbort);
  const iterator = body[Symbol.asyncIterator]();
  let finished = false;
  try {
    const post = (message: FromWorker) => channel.postMessage(message);
    post({ t: "head", status: result.status, headers: result.headers, slot: workerSlot(), startedAt });
    while (!cancelled) {
      const next = await iterator.next();
      if (next.done) {
        finished = true;
        post({ t: "end" });
        break;
      }
      post({ t: "chunk", data: next.value });
      unacked++;
      while (unacked >= window && !cancelled) await new Promise<void>((resolve) => (wake = resolve));
    }
  } catch (error) {
    finished = true;
    channel.postMessage({ t: "error", error: encodeError(error) } satisfies FromWorker);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (!finished) await iterator.return?.();
    channel.close();
  }
  return { streamed: true };
}
