// An in-process client for tests (FastAPI's TestClient, Fastify's inject): requests go through
// the whole pipeline — routing, validation, both lanes with the real worker pool — without a
// socket or a port.
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { App } from "../app/app.js";
import type { HandledRequest } from "../app/handle-request.js";
import { defaults, resolveConfig } from "../server/config.js";
import { frameResponse } from "../server/frame-response.js";
import { startApp, type StartedApp } from "../server/start-app.js";
import type { HeaderValue } from "../http/response.js";

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
  /**
   * Redis for queue-lane routes and durable jobs (`redis://host:port`); the routes then run on
   * whatever `loopwise worker` processes take from it. Without it, a queue-lane route answers 503.
   */
  redis?: string;
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
}

export interface TestResponse {
  status: number;
  /** Lower-cased names; a header sent more than once (`set-cookie`) is joined with ", ", as `fetch`'s `Headers.get` does. */
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON (throws if it is not JSON). */
  json(): any;
  /** Where it ran: "loop", "worker#N", or "queue@host:pid/..." (a worker process). */
  lane: string;
  /** Behind a 500: the error the server would log (never sent to the client). */
  error: { name: string; message: string; stack?: string } | undefined;
}

/**
 * Starts the app's worker pool and startup hooks, and sends requests to the app in process:
 *
 *     const client = await TestClient.start(app);
 *     const res = await client.get("/items", { query: { limit: 5 } });
 *     assert.equal(res.status, 200);
 *     await client.close();
 */
export class TestClient {
  private constructor(private readonly started: StartedApp) {}

  static async start(app: App, options: TestClientOptions = {}): Promise<TestClient> {
    const config = resolveConfig({ ...options, poolSize: options.poolSize ?? defaults.testPoolSize }, app.moduleUrl);
    return new TestClient(await startApp(app, config));
  }

  get(path: string, init?: TestRequest) {
    return this.request("GET", path, init);
  }
  post(path: string, init?: TestRequest) {
    return this.request("POST", path, init);
  }
  put(path: string, init?: TestRequest) {
    return this.request("PUT", path, init);
  }
  patch(path: string, init?: TestRequest) {
    return this.request("PATCH", path, init);
  }
  delete(path: string, init?: TestRequest) {
    return this.request("DELETE", path, init);
  }

  async request(method: string, path: string, init: TestRequest = {}): Promise<TestResponse> {
    let url = path;
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(init.query ?? {})) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) search.append(key, String(v));
    }
    if (search.size > 0) url += (url.includes("?") ? "&" : "?") + search.toString();
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
    }
    if (body) headers["content-length"] = String(body.length);
    const req = Object.assign(Readable.from(body ? [body] : []), {
      method: method.toUpperCase(),
      url,
      headers,
      httpVersion: "1.1",
    }) as unknown as IncomingMessage;
    const handled = await new Promise<HandledRequest>((resolve, reject) => this.started.handle(req, "testclient:0", resolve, reject));
    // Checked and framed as the server would send it: a bad status is a 500 here too.
    const result = frameResponse(handled);
    const text = typeof result.body === "string" ? result.body : Buffer.from(result.body).toString("utf8");
    return {
      status: result.status,
      headers: joinedHeaders(result.headers),
      text,
      json: () => JSON.parse(text),
      lane: handled.lane,
      error: result.error,
    };
  }

  /** Ends the pool and runs the shutdown hooks. */
  async close(): Promise<void> {
    const [failure] = await this.started.stop(true);
    if (failure) throw failure;
  }
}

function joinedHeaders(headers: Record<string, HeaderValue>): Record<string, string> {
  const joined: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name]!;
    joined[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return joined;
}
