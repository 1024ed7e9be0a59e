// The TestClient's WebSockets: a real `ws` client over an in-memory socket pair to the same hub
// the server uses, so a test sees the real handshake (its 101, or its 404/422/401), the real
// frames and the real close codes, with no port.
import { createServer, type Server } from "node:http";
import { WebSocket } from "ws";
import type { App } from "../app/app.js";
import type { TaskExecutor } from "../lanes/executor.js";
import type { WebSocketClosed, WebSocketMessage } from "../app/server-websocket.js";
import { closeCodes, WebSocketDenied, WebSocketDisconnect } from "../http/websocket-errors.js";
import type { SerializedError } from "../pool/protocol.js";
import { InFlight } from "../server/drain.js";
import { WebSocketHub } from "../server/websocket-hub.js";
import type { LoopMonitor } from "../monitor/loop-monitor.js";
import { socketPair } from "./socket-pair.js";

export interface TestWebSocketInit {
  /** Added to the path's query string; arrays repeat the key. */
  query?: Record<string, string | number | boolean | (string | number | boolean)[] | undefined>;
  headers?: Record<string, string>;
  cookies?: Record<string, string>;
  /** Offered in `Sec-WebSocket-Protocol`, by preference. */
  subprotocols?: string[];
}

export interface TestWebSocketClosed extends WebSocketClosed {
  /** Behind a 1011: the error the server would log. */
  error: SerializedError | undefined;
}

/** How long `receive()` waits for a message before failing the test, ms. */
const receiveTimeoutMs = 5000;

/**
 * The test's end of a WebSocket:
 *
 *     const ws = await client.websocket("/ws/echo");
 *     ws.send("hello");
 *     assert.deepEqual(await ws.receiveJson(), { echo: "hello" });
 *     await ws.close();
 */
export class TestWebSocket {
  /** The subprotocol the server chose, or "". */
  readonly protocol: string;
  /** Resolves once the connection has closed, with the code, reason, and (behind a 1011) the server's error. */
  readonly closed: Promise<TestWebSocketClosed>;
  private readonly inbox: WebSocketMessage[] = [];
  private readonly waiters: { resolve(message: WebSocketMessage): void; reject(error: Error): void }[] = [];
  private ending: WebSocketClosed | undefined;

  constructor(
    private readonly socket: WebSocket,
    serverError: () => SerializedError | undefined,
  ) {
    this.protocol = socket.protocol;
    // A bad frame from the server is followed by a close with its code: that is what a test sees.
    socket.on("error", () => {});
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      const message = isBinary ? new Uint8Array(data) : data.toString("utf8");
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(message);
      else this.inbox.push(message);
    });
    this.closed = new Promise((resolve) =>
      socket.once("close", (code: number, reason: Buffer) => {
        this.ending = { code, reason: reason.toString("utf8") };
        for (const waiter of this.waiters.splice(0)) waiter.reject(new WebSocketDisconnect(code, this.ending.reason));
        resolve({ ...this.ending, error: serverError() });
      }),
    );
  }

  /** Sends text (a string) or binary (bytes). */
  send(data: string | Uint8Array): void {
    this.socket.send(data, { binary: typeof data !== "string" });
  }

  sendJson(value: unknown): void {
    this.send(JSON.stringify(value));
  }

  /** The next message; raises WebSocketDisconnect once the server closed and every message was read, an Error after 5 s without one. */
  receive(): Promise<WebSocketMessage> {
    const next = this.inbox.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.ending) return Promise.reject(new WebSocketDisconnect(this.ending.code, this.ending.reason));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new Error(`no WebSocket message within ${receiveTimeoutMs} ms`));
      }, receiveTimeoutMs);
      const waiter = {
        resolve: (message: WebSocketMessage) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(waiter);
    });
  }

  async receiveText(): Promise<string> {
    const message = await this.receive();
    if (typeof message !== "string") throw new TypeError(`expected a text message, got ${message.length} bytes`);
    return message;
  }

  async receiveBytes(): Promise<Uint8Array> {
    const message = await this.receive();
    if (typeof message === "string") throw new TypeError(`expected a binary message, got text: ${message}`);
    return message;
  }

  async receiveJson(): Promise<any> {
    const message = await this.receive();
    return JSON.parse(typeof message === "string" ? message : Buffer.from(message).toString("utf8"));
  }

  /** Closes (default 1000) and resolves once the server has answered the close. */
  close(code: number = closeCodes.normal, reason = ""): Promise<TestWebSocketClosed> {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(code, reason);
    return this.closed;
  }
}

/** The hub the TestClient's WebSockets connect to, made on first use, with an HTTP server that never listens. */
export class TestWebSockets {
  private readonly server: Server;
  private readonly hub: WebSocketHub;
  private readonly inFlight = new InFlight();
  private readonly errors = new WeakMap<object, SerializedError>();

  /** With a loop monitor (the TestClient's `failOnBlock`), each session's code is noted as the server notes it. */
  constructor(app: App, executor: TaskExecutor, maxMessageSize: number, monitor?: LoopMonitor) {
    this.hub = new WebSocketHub(app, {
      executor,
      maxMessageSize,
      monitor,
      // In memory nothing vanishes unnoticed: no keep-alive pings.
      pingInterval: 0,
      closing: () => false,
      inFlight: this.inFlight,
      report: {
        answered: (handshake, _status, error) => {
          if (error) this.errors.set(handshake.socket, error);
        },
        handlerError: (handshake, error) => this.errors.set(handshake.socket, error),
        ended: () => {},
      },
    });
    this.server = createServer();
    this.server.on("upgrade", this.hub.onUpgrade);
  }

  open(url: string, init: TestWebSocketInit): Promise<TestWebSocket> {
    const [clientEnd, serverEnd] = socketPair();
    this.server.emit("connection", serverEnd);
    const headers: Record<string, string> = { ...init.headers };
    if (init.cookies) {
      headers.cookie = Object.entries(init.cookies)
        .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
        .join("; ");
    }
    const socket = new WebSocket(`ws://testclient${url}`, init.subprotocols ?? [], { headers, createConnection: () => clientEnd as never });
    const serverError = () => this.errors.get(serverEnd);
    return new Promise((resolve, reject) => {
      socket.once("open", () => resolve(new TestWebSocket(socket, serverError)));
      socket.once("unexpected-response", (_req, res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)]));
          reject(new WebSocketDenied(res.statusCode ?? 0, headers, text, serverError()));
          socket.terminate();
        });
      });
      socket.once("error", (error) => reject(error));
    });
  }

  /** Closes what is still open with 1001 and waits (a little) for the handlers to finish. */
  async close(): Promise<void> {
    this.hub.shutdown(1000);
    await this.inFlight.drained(2000);
  }
}
