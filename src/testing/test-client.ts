// An in-process client for tests (FastAPI's TestClient, Fastify's inject): requests go through
// the whole pipeline — routing, validation, both lanes with the real worker pool — without a
// socket or a port.
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { App } from "../app/app.js";
import type { HandledRequest } from "../app/handle-request.js";
import { runBackgroundTasks, type BackgroundOutcome } from "../lanes/background.js";
import { defaults, resolveConfig, type Config } from "../server/config.js";
import { frameResponse } from "../server/frame-response.js";
import { startApp, type StartedApp } from "../server/start-app.js";
import { startLoopMonitor } from "../server/start-monitor.js";
import type { LoopBlock, RequestTag } from "../monitor/loop-monitor.js";
import type { Peer } from "../http/request.js";
import { closeSource, isStreamBody, readStreamWhole, type HeaderValue, type RouteResult } from "../http/response.js";
import type { TestWebSocket, TestWebSocketInit, TestWebSockets } from "./test-websocket.js";
import type { AnswerData } from "./typed-answers.js";

/** Who a TestClient's requests come from, as Starlette's TestClient names it. */
const testPeer: Peer = { client: "testclient:0", scheme: "http" };

export interface TestClientOptions {
  /** Worker threads in the pool (default 2). */
  poolSize?: number;
  /** Where the app lives, for the workers; defaults to the module that created the app. */
  moduleUrl?: string;
  exportName?: string;
  /** Largest request body, bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Deepest nesting a JSON body may have (default 256). */
  jsonDepthLimit?: number;
  /** Default handler time limit, ms. */
  timeout?: number;
  /** As the server's `rootPath`: the prefix a proxy would serve the app under (`req.rootPath`, /docs, OpenAPI `servers`). */
  rootPath?: string;
  /**
   * Redis for queue-lane routes and durable jobs (`redis://host:port`); the routes then run on
   * whatever `loopwise worker` processes take from it. Without it, a queue-lane route answers 503.
   */
  redis?: string;
  /**
   * Fail on a blocked event loop, asyncio debug mode's slow-callback warning made an error: a
   * request whose code blocks the loop at least this many ms rejects with a LoopBlockedError
   * carrying the loop monitor's message (the route, where it blocked, the fix). A block the
   * client cannot pin on one of its requests (a WebSocket session's) fails `close()`.
   */
  failOnBlock?: number;
}

/** A request's code blocked the event loop past the TestClient's `failOnBlock`. */
export class LoopBlockedError extends Error {
  override readonly name = "LoopBlockedError";
  constructor(
    /** The loop monitor's message for each block. */
    readonly blocks: string[],
    thresholdMs: number,
  ) {
    super(`failOnBlock (${thresholdMs} ms): ${blocks.join("\n")}`);
  }
}

/** A block the monitor pinned on a request, until a request of the client claims it. */
interface PendingBlock {
  block: LoopBlock;
  message: string;
}

type QueryValue = string | number | boolean;

export interface TestRequest {
  /** Added to the path's query string; arrays repeat the key. */
  query?: Record<string, QueryValue | QueryValue[] | undefined>;
  headers?: Record<string, string>;
  cookies?: Record<string, string>;
  /** Sent as `application/json`. */
  json?: unknown;
  /** Sent as it is (give a `content-type` header). */
  body?: string | Uint8Array;
  /** Form fields, sent as `application/x-www-form-urlencoded`, or as `multipart/form-data` with `files`. */
  form?: Record<string, QueryValue | QueryValue[]>;
  /** Files, sent as `multipart/form-data` (with `form`'s fields): a `File` keeps its name, a `Blob` is named "blob". */
  files?: Record<string, Blob | Blob[]>;
}

export interface TestResponse<T = any> {
  status: number;
  /** Lower-cased names; a header sent more than once (`set-cookie`) is joined with ", ", as `fetch`'s `Headers.get` does. */
  headers: Record<string, string>;
  text: string;
  /** The body's bytes, as sent (compressed, when it was). */
  bytes: Buffer;
  /**
   * The body parsed as JSON (throws if it is not JSON). Typed by the route's response for an app
   * built by chaining; for an error answer, name its type: `json<HTTPValidationError>()`.
   */
  json(): T;
  json<U>(): U;
  /** Where it ran: "loop", "worker#N", or "queue@host:pid/..." (a worker process). */
  lane: string;
  /** Behind a 500: the error the server would log (never sent to the client). */
  error: { name: string; message: string; stack?: string } | undefined;
  /**
   * The background tasks the handler added, each with where it ran and, if it failed, its error.
   * They have all run when the response arrives (as with FastAPI's TestClient).
   */
  background: BackgroundOutcome[];
}

/**
 * Starts the app's worker pool and startup hooks, and sends requests to the app in process:
 *
 *     const client = await TestClient.start(app);
 *     const res = await client.get("/items", { query: { limit: 5 } });
 *     assert.equal(res.status, 200);
 *     await client.close();
 */
export class TestClient<A extends App = App> {
  private websockets: Promise<TestWebSockets> | undefined;

  private constructor(
    private readonly app: App,
    private readonly started: StartedApp,
    private readonly config: Config,
    private readonly failOnBlock: number | undefined,
    private readonly blocks: PendingBlock[],
  ) {}

  static async start<A extends App>(app: A, options: TestClientOptions = {}): Promise<TestClient<A>> {
    const { failOnBlock } = options;
    if (failOnBlock !== undefined && !(failOnBlock > 0)) throw new RangeError(`failOnBlock must be a positive number of ms, got ${failOnBlock}`);
    const config = resolveConfig({ ...options, poolSize: options.poolSize ?? defaults.testPoolSize }, app.moduleUrl);
    const blocks: PendingBlock[] = [];
    // Only blocks in the code of this client's own requests and WebSocket sessions fail a test: a stall
    // with none of them running is the test's own code, another client's, or the machine.
    const onBlock = (block: LoopBlock, _route: string | undefined, message: string) => {
      if (block.culprit === "request" && block.requestId !== undefined) blocks.push({ block, message });
    };
    const events = failOnBlock === undefined ? {} : { startMonitor: () => startLoopMonitor(app, failOnBlock, { logFormat: "text" }, onBlock) };
    return new TestClient(app, await startApp(app, config, events), config, failOnBlock, blocks);
  }

  /**
   * Opens a WebSocket to one of the app's WebSocket routes, in memory (no port), through the
   * real handshake: it rejects with WebSocketDenied when the handshake is answered with an HTTP
   * status (404, 422, a dependency's 401) instead of 101.
   *
   *     const ws = await client.websocket("/ws/echo");
   *     ws.send("hi");
   *     assert.deepEqual(await ws.receiveJson(), { echo: "hi" });
   */
  async websocket(path: string, init: TestWebSocketInit = {}): Promise<TestWebSocket> {
    this.websockets ??= import("./test-websocket.js").then(
      ({ TestWebSockets }) => new TestWebSockets(this.app, this.started.pool, this.config.websocketMaxMessageSize, this.started.monitor),
    );
    return (await this.websockets).open(withQuery(path, init.query), init);
  }

  get<P extends string>(path: P, init?: TestRequest): Promise<TestResponse<AnswerData<A, "GET", P>>> {
    return this.request("GET", path, init);
  }
  post<P extends string>(path: P, init?: TestRequest): Promise<TestResponse<AnswerData<A, "POST", P>>> {
    return this.request("POST", path, init);
  }
  put<P extends string>(path: P, init?: TestRequest): Promise<TestResponse<AnswerData<A, "PUT", P>>> {
    return this.request("PUT", path, init);
  }
  patch<P extends string>(path: P, init?: TestRequest): Promise<TestResponse<AnswerData<A, "PATCH", P>>> {
    return this.request("PATCH", path, init);
  }
  delete<P extends string>(path: P, init?: TestRequest): Promise<TestResponse<AnswerData<A, "DELETE", P>>> {
    return this.request("DELETE", path, init);
  }

  /**
   * The web's `fetch`, answered by the app in memory: what `createClient(testClient)` sends
   * through, and what any fetch-based client can use in a test.
   */
  async fetch(input: Request | string | URL, init?: RequestInit): Promise<Response> {
    const request = input instanceof Request && init === undefined ? input : new Request(input, init);
    const url = new URL(request.url);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const body = request.body === null ? undefined : new Uint8Array(await request.arrayBuffer());
    const { result, bytes } = await this.exchange(request.method, url.pathname + url.search, { headers, body });
    const answer = new Headers();
    for (const [name, value] of Object.entries(result.headers))
      for (const item of Array.isArray(value) ? value : [value]) answer.append(name, String(item));
    const empty = result.status === 204 || result.status === 304 || request.method === "HEAD";
    return new Response(empty ? null : bytes, { status: result.status, headers: answer });
  }

  async request(method: string, path: string, init: TestRequest = {}): Promise<TestResponse> {
    const { handled, result, bytes, background } = await this.exchange(method, path, init);
    const text = bytes.toString("utf8");
    return {
      status: result.status,
      headers: joinedHeaders(result.headers),
      text,
      bytes,
      json: () => JSON.parse(text),
      lane: handled.lane,
      error: result.error,
      background,
    };
  }

  /** Sends one request through the app: the response as the server would frame it, its body read whole, its background tasks run. */
  private async exchange(method: string, path: string, init: TestRequest) {
    const url = withQuery(path, init.query);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
    if (init.cookies) {
      headers.cookie = Object.entries(init.cookies)
        .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
        .join("; ");
    }
    let body: Buffer | undefined;
    if (init.json !== undefined) {
      body = Buffer.from(JSON.stringify(init.json));
      headers["content-type"] ??= "application/json";
    } else if (init.body !== undefined) {
      body = Buffer.from(init.body);
    } else if (init.form !== undefined || init.files !== undefined) {
      const encoded = await encodeForm(init.form ?? {}, init.files);
      body = encoded.body;
      headers["content-type"] ??= encoded.type;
    }
    if (body) headers["content-length"] = String(body.length);
    const req = Object.assign(Readable.from(body ? [body] : []), {
      method: method.toUpperCase(),
      url,
      headers,
      httpVersion: "1.1",
    }) as unknown as IncomingMessage;
    const handled = await this.handle(req);
    const background = handled.background ? await runBackgroundTasks(handled.background, this.started.pool) : [];
    // Checked and framed as the server would send it: a bad status is a 500 here too.
    const result = frameResponse(handled);
    if (isStreamBody(handled.body) && result.body !== handled.body) closeSource(handled.body);
    const bytes = await bodyBytes(result.body, method.toUpperCase() === "HEAD");
    return { handled, result, bytes, background };
  }

  /** Closes open WebSockets (1001), ends the pool and runs the shutdown hooks. */
  async close(): Promise<void> {
    await (await this.websockets)?.close();
    await this.started.monitor?.settle();
    const { failures, abandoned } = await this.started.stop(true);
    if (failures[0]) throw failures[0];
    if (abandoned)
      throw new Error(`${abandoned.hook} never settled: its promise was still pending when nothing was left to run that could settle it`);
    const unclaimed = this.blocks.splice(0);
    if (unclaimed.length > 0)
      throw new LoopBlockedError(
        unclaimed.map((b) => b.message),
        this.failOnBlock!,
      );
  }

  /** Runs the request through the app; with `failOnBlock`, as the loop monitor's request, failing if its code blocked the loop. */
  private async handle(req: IncomingMessage): Promise<HandledRequest> {
    const monitor = this.started.monitor;
    if (!monitor) return new Promise((resolve, reject) => this.started.handle(req, testPeer, resolve, reject));
    let tag: RequestTag | undefined;
    try {
      const handled = await new Promise<HandledRequest>((resolve, reject) =>
        monitor.run(
          (own: RequestTag, message: IncomingMessage) => {
            tag = own;
            this.started.handle(message, testPeer, resolve, reject);
          },
          req,
          undefined,
        ),
      );
      await monitor.settle();
      const mine = (pending: PendingBlock) => pending.block.requestId === tag!.id;
      const claimed = this.blocks.filter(mine);
      if (claimed.length > 0) {
        this.blocks.splice(0, this.blocks.length, ...this.blocks.filter((pending) => !mine(pending)));
        // The test gets the error instead of the response: a streamed body is not left open.
        if (isStreamBody(handled.body)) closeSource(handled.body);
        throw new LoopBlockedError(
          claimed.map((b) => b.message),
          this.failOnBlock!,
        );
      }
      return handled;
    } finally {
      if (tag) monitor.finished(tag);
    }
  }
}

/** A streamed body is read to its end, as a client would; a HEAD's is not read at all. */
async function bodyBytes(body: RouteResult["body"], head: boolean): Promise<Buffer> {
  if (!isStreamBody(body)) return Buffer.from(body);
  if (head) {
    closeSource(body);
    return Buffer.alloc(0);
  }
  return readStreamWhole(body);
}

function withQuery(path: string, query: TestRequest["query"]): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, String(v));
  }
  return search.size > 0 ? path + (path.includes("?") ? "&" : "?") + search.toString() : path;
}

/** A form as a browser sends it: urlencoded, or multipart when it has files (encoded by the web's own FormData). */
async function encodeForm(fields: NonNullable<TestRequest["form"]>, files: TestRequest["files"]): Promise<{ body: Buffer; type: string }> {
  const entries = Object.entries(fields).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).map((v): [string, string] => [name, String(v)]),
  );
  if (files === undefined) return { body: Buffer.from(new URLSearchParams(entries).toString()), type: "application/x-www-form-urlencoded" };
  const form = new FormData();
  for (const [name, value] of entries) form.append(name, value);
  for (const [name, value] of Object.entries(files)) for (const file of Array.isArray(value) ? value : [value]) form.append(name, file);
  const encoded = new Response(form);
  return { body: Buffer.from(await encoded.arrayBuffer()), type: encoded.headers.get("content-type")! };
}

function joinedHeaders(headers: Record<string, HeaderValue>): Record<string, string> {
  const joined: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name]!;
    joined[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return joined;
}
