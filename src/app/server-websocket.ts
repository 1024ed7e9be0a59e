// The connection a WebSocket handler talks to, on the event loop. It is also the handshake's
// request (params, query, headers, cookies, as validated), so code written for `req` reads it.
// Two kinds of backpressure: `await send()` waits while the outgoing buffer is over its mark,
// and the socket stops being read while too many incoming messages wait for the handler.
import type { AppLogger } from "../log/app-log.js";
import type { Headers, HttpRequest, Query, Scheme } from "../http/request.js";
import { checkedClose, closeCodes, WebSocketDisconnect } from "../http/websocket-errors.js";
import { encodeJson } from "../http/json-encoding.js";
import { defaultJsonDepthLimit, jsonNestedDeeperThan } from "../params/json-depth.js";
import { describeValue } from "../pool/protocol.js";

/** What a session needs of the `ws` library's socket (kept apart so that workers, which import the app, never load `ws`). */
export interface SocketPort {
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly protocol: string;
  send(data: string | Uint8Array, options: { binary: boolean }, done?: (error?: Error) => void): void;
  close(code: number, reason: string): void;
  pause(): void;
  resume(): void;
  /** With ws's default binaryType, "nodebuffer": a message arrives whole, as one Buffer. */
  on(event: "message", listener: (data: Uint8Array, isBinary: boolean) => void): unknown;
  on(event: "close", listener: (code: number, reason: Uint8Array) => void): unknown;
}

/** A text message arrives as a string, a binary one as bytes. */
export type WebSocketMessage = string | Uint8Array;

export interface WebSocketClosed {
  /** 1000 for a normal close, 1001 going away, 1006 when the peer vanished without a close frame, ... */
  code: number;
  reason: string;
}

const open = 1;
/** `await send()` returns at once while less than this is waiting to go out; above it, once the message is written. */
export const sendHighWaterMark = 64 * 1024;
/** Incoming messages the handler has not read yet; past this many the socket is no longer read (the peer is slowed by TCP). */
export const receiveHighWaterMark = 16;
const receiveLowWaterMark = 4;
const ignore = () => {};

interface Waiter {
  resolve(message: WebSocketMessage): void;
  reject(error: WebSocketDisconnect): void;
}

/**
 * A WebSocket connection, accepted. Read with `for await (const message of ws)` or
 * `await ws.receive()`; write with `await ws.send(text or bytes)` or `ws.sendJson(value)`:
 *
 *     app.websocket("/ws/echo", async (ws) => {
 *       for await (const message of ws) await ws.sendJson({ echo: message });
 *     });
 */
export class ServerWebSocket<Params = Record<string, string>, QueryT = Query, HeadersT = Headers, Cookies = Record<string, string>>
  implements HttpRequest<Params, QueryT, undefined, HeadersT, Cookies>
{
  readonly method = "GET";
  readonly url: string;
  readonly path: string;
  readonly params: Params;
  readonly query: QueryT;
  readonly headers: HeadersT;
  readonly cookies: Cookies;
  readonly body = undefined;
  readonly client: string;
  readonly scheme: Scheme;
  readonly rootPath: string;
  /** The subprotocol chosen from the route's `subprotocols` and the client's offer, or "". */
  readonly protocol: string;
  /** Resolves when the connection has closed, however it ended; never rejects. */
  readonly closed: Promise<WebSocketClosed>;
  /** Messages received and sent, for the session's metrics. */
  received = 0;
  sent = 0;
  readonly #port: SocketPort;
  readonly #request: HttpRequest<Params, QueryT, unknown, HeadersT, Cookies>;
  readonly #inbox: WebSocketMessage[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #abort = new AbortController();
  #ending: WebSocketClosed | undefined;
  #paused = false;
  #settle!: (closed: WebSocketClosed) => void;

  constructor(port: SocketPort, request: HttpRequest<Params, QueryT, unknown, HeadersT, Cookies>) {
    this.#port = port;
    this.#request = request;
    this.url = request.url;
    this.path = request.path;
    this.params = request.params;
    this.query = request.query;
    this.headers = request.headers;
    this.cookies = request.cookies;
    this.client = request.client;
    this.scheme = request.scheme;
    this.rootPath = request.rootPath;
    this.protocol = port.protocol;
    this.closed = new Promise((resolve) => (this.#settle = resolve));
    port.on("message", (data, isBinary) => this.#arrived(data, isBinary));
    port.on("close", (code, reason) => this.#gone(code, Buffer.from(reason).toString("utf8")));
  }

  /** The session's logger (its handshake's): lines carry the route and lane. */
  get log(): AppLogger {
    return this.#request.log;
  }

  /** Aborts when the connection closes: hand it to `fetch()` or a timer that should stop with the session. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Bytes sent but not yet written to the socket: a broadcast may skip (or drop) a member that lets it grow. */
  get bufferedAmount(): number {
    return this.#port.bufferedAmount;
  }

  /** "open" until either side closes; "closing" once a close is under way; then "closed". */
  get state(): "open" | "closing" | "closed" {
    if (this.#abort.signal.aborted) return "closed";
    return this.#ending || this.#port.readyState !== open ? "closing" : "open";
  }

  /** The next message; raises WebSocketDisconnect once the connection is closed and every message was read. */
  receive(): Promise<WebSocketMessage> {
    const next = this.#inbox.shift();
    if (next !== undefined) {
      if (this.#paused && this.#inbox.length <= receiveLowWaterMark) {
        this.#paused = false;
        this.#port.resume();
      }
      return Promise.resolve(next);
    }
    if (this.#ending) return Promise.reject(this.#disconnect());
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** The next message, which must be text; a binary one closes the connection with 1003. */
  async receiveText(): Promise<string> {
    const message = await this.receive();
    if (typeof message === "string") return message;
    throw this.#refuse(closeCodes.unsupportedData, "Expected a text message");
  }

  /** The next message, which must be binary; a text one closes the connection with 1003. */
  async receiveBytes(): Promise<Uint8Array> {
    const message = await this.receive();
    if (typeof message !== "string") return message;
    throw this.#refuse(closeCodes.unsupportedData, "Expected a binary message");
  }

  /** The next message parsed as JSON (text or UTF-8 bytes); JSON that does not parse, or nests too deep, closes with 1007. */
  async receiveJson(): Promise<unknown> {
    const message = await this.receive();
    const bytes = typeof message === "string" ? Buffer.from(message) : message;
    if (!jsonNestedDeeperThan(bytes, defaultJsonDepthLimit)) {
      try {
        return JSON.parse(typeof message === "string" ? message : Buffer.from(message).toString("utf8"));
      } catch {
        // answered below
      }
    }
    throw this.#refuse(closeCodes.invalidData, "Invalid JSON");
  }

  /** Reads messages until the connection closes (the loop then ends, without an error). */
  async *[Symbol.asyncIterator](): AsyncGenerator<WebSocketMessage, void, undefined> {
    for (;;) {
      let message: WebSocketMessage;
      try {
        message = await this.receive();
      } catch (error) {
        if (error instanceof WebSocketDisconnect) return;
        throw error;
      }
      yield message;
    }
  }

  /**
   * Sends a text (string) or binary (bytes) message. Resolves at once while the outgoing buffer
   * is small; when it holds over 64 KiB, once this message has been written to the socket, so a
   * loop of `await ws.send()` goes at the pace of the peer. Rejects with WebSocketDisconnect once
   * the connection is closed (a send left unawaited that fails so is not an unhandled rejection).
   * Anything but text or bytes throws a TypeError at once.
   */
  send(data: string | Uint8Array | ArrayBuffer): Promise<void> {
    const binary = typeof data !== "string";
    if (binary && !(data instanceof Uint8Array) && !(data instanceof ArrayBuffer)) {
      throw new TypeError(
        `send() takes a string (text) or bytes (a Uint8Array or ArrayBuffer), got ${describeValue(data)}; use sendJson() for values`,
      );
    }
    const sent = this.#send(data instanceof ArrayBuffer ? new Uint8Array(data) : data, binary);
    sent.catch(ignore);
    return sent;
  }

  /**
   * Sends `value` as JSON in a text message, encoded as a response body is (Maps, Sets, bigints,
   * bytes; see json-encoding.ts); a value JSON cannot carry (a function, a cycle) throws at once.
   */
  sendJson(value: unknown): Promise<void> {
    if (value === undefined || typeof value === "function" || typeof value === "symbol") {
      throw new TypeError(`sendJson() cannot send ${describeValue(value)}: it has no JSON form`);
    }
    return this.send(encodeJson(value));
  }

  /**
   * Closes the connection with `code` (default 1000) and a reason of up to 123 bytes (a longer
   * one is cut). Messages not read yet are dropped; `receive()` and `send()` raise WebSocketDisconnect
   * from now on. Closing twice does nothing.
   */
  close(code: number = closeCodes.normal, reason = ""): void {
    const fitted = checkedClose(code, reason);
    if (this.#ending || this.#abort.signal.aborted) return;
    this.#ending = { code, reason: fitted };
    this.#inbox.length = 0;
    this.#rejectWaiters();
    if (this.#paused) this.#port.resume();
    if (this.#port.readyState === open) this.#port.close(code, fitted);
  }

  #send(payload: string | Uint8Array, binary: boolean): Promise<void> {
    if (this.#ending || this.#port.readyState !== open) return Promise.reject(this.#disconnect());
    this.sent++;
    if (this.#port.bufferedAmount < sendHighWaterMark) {
      this.#port.send(payload, { binary });
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#port.send(payload, { binary }, (error) => (error ? reject(this.#disconnect()) : resolve())));
  }

  #arrived(data: Uint8Array, isBinary: boolean): void {
    if (this.#ending) return;
    this.received++;
    const message = isBinary ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8");
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter.resolve(message);
      return;
    }
    this.#inbox.push(message);
    if (!this.#paused && this.#inbox.length >= receiveHighWaterMark) {
      this.#paused = true;
      this.#port.pause();
    }
  }
  #gone(code: number, reason: string): void {
    this.#ending ??= { code, reason };
    this.#abort.abort(this.#disconnect());
    this.#rejectWaiters();
    this.#settle({ code, reason });
  }

  #rejectWaiters(): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#disconnect());
  }

  #disconnect(): WebSocketDisconnect {
    const ending = this.#ending ?? { code: closeCodes.abnormal, reason: "" };
    return new WebSocketDisconnect(ending.code, ending.reason);
  }

  /** Closes for a message the handler cannot take, and returns the error its read raises. */
  #refuse(code: number, reason: string): WebSocketDisconnect {
    this.close(code, reason);
    return this.#disconnect();
  }
}
