// Writing a streamed body: chunk by chunk as the source yields them, waiting while the socket's
// buffer is full, and stopping the source (its `finally` runs) when the client goes away.
import type { ServerResponse } from "node:http";
import { closeSource, type BodyChunk, type StreamBody } from "../http/response.js";
import { describeValue } from "../pool/protocol.js";

export interface StreamOutcome {
  /** Body bytes handed to the socket. */
  bytes: number;
  /** The source failed after the head was sent: the connection was dropped so the client sees the body is incomplete. */
  error?: unknown;
  /** The client left before the end. */
  clientGone: boolean;
}

/**
 * Writes `body` after a head already written; `skip` (HEAD) sends none of it and only closes the
 * source. When `stop` resolves (the server is shutting down) the body ends cleanly where it is.
 */
export async function writeStream(res: ServerResponse, body: StreamBody, skip: boolean, stop?: Promise<void>): Promise<StreamOutcome> {
  const iterator = body[Symbol.asyncIterator]();
  if (skip) {
    closeSource(iterator);
    res.end();
    return { bytes: 0, clientGone: false };
  }
  let bytes = 0;
  let gone = false;
  const onClose = () => {
    gone = !res.writableFinished;
  };
  res.on("close", onClose);
  try {
    const stopped = stop?.then((): typeof ended => ended);
    while (true) {
      const next = stopped ? await Promise.race([iterator.next(), stopped]) : await iterator.next();
      if (next === ended) {
        closeSource(iterator);
        break;
      }
      if (next.done) break;
      if (gone || res.destroyed) {
        closeSource(iterator);
        return { bytes, clientGone: true };
      }
      const chunk = checkChunk(next.value);
      // An empty write would send nothing yet still cost a syscall; skip it.
      if (chunk.length === 0) continue;
      bytes += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.byteLength;
      if (!res.write(chunk)) await drained(res);
    }
    res.end();
    return { bytes, clientGone: false };
  } catch (error) {
    closeSource(iterator);
    dropAfterFlush(res);
    return { bytes, error, clientGone: false };
  } finally {
    res.off("close", onClose);
  }
}

const ended = Symbol("ended");

/** How long the head and chunks already written may take to reach a client before the connection is cut regardless. */
const flushLimitMs = 5000;

/**
 * Ends the connection without the body's end (no final chunk), so the client sees the body is
 * incomplete, but only once the head and the chunks written so far have gone out: destroying the
 * socket at once would discard them when the source failed in the same tick as its last chunk
 * (Node holds a response's first writes back until the next tick), and the client would get no
 * status line at all. Ending the socket in that same tick loses them too on Node 22 and later,
 * where the response hands them to the socket only on its next tick: so the socket is ended after
 * the response's own flush.
 */
function dropAfterFlush(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket || socket.destroyed || !socket.writable) return void res.destroy();
  const cut = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(cut, flushLimitMs).unref();
  socket.once("finish", cut);
  socket.once("close", () => clearTimeout(timer));
  setImmediate(() => {
    if (socket.destroyed) return;
    if (socket.writable) socket.end();
    else cut();
  });
}

function checkChunk(value: unknown): BodyChunk {
  if (typeof value === "string" || value instanceof Uint8Array) return value;
  throw new TypeError(`a streamed body yields strings or bytes, got ${describeValue(value)}`);
}

/** Resolves when the socket takes more, or closes. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
