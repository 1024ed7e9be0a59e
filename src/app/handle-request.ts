// The request pipeline: route → read and parse input → the route's runner, which validates and
// hands the request to its lane (src/lanes: async handlers right here on the event loop, plain
// ones across to a worker as plain data, queue-lane ones to a worker process). What a route's
// runner does was decided when it was composed (route-runner.ts), not here.
import type { IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import { isFileBody } from "../http/file-body.js";
import { prepareFile } from "../http/prepare-file.js";
import type { HttpRequest, Peer } from "../http/request.js";
import { statusResult, type RouteResult } from "../http/response.js";
import { schemaSerializer } from "../http/schema-serializer.js";
import type { LoopMonitor } from "../monitor/loop-monitor.js";
import { hasBody, parseBody, readBody, tooLarge } from "../params/body.js";
import { parseCookies } from "../params/cookies.js";
import { isMultipart, readMultipart } from "../params/multipart.js";
import { releasingAfter } from "../params/upload-release.js";
import { parseQuery } from "../params/query.js";
import { originForm } from "../params/request-target.js";
import type { App } from "./app.js";
import { errorResult } from "./error-table.js";
import { pooledDependencyRunner } from "./pooled-dependency.js";
import { RequestData } from "./request-data.js";
import { bodyLimitKey } from "./fetch-mount.js";
import { matchedRouteKey } from "../log/request-log.js";
import { composeRunner, handled, type Done, type HandledRequest, type QueueRunnerFactory, type RouteRunner } from "./route-runner.js";
import { runMiddleware } from "./middleware.js";
import type { Route } from "./router.js";
import type { TaskExecutor } from "../lanes/executor.js";

export type { HandledRequest } from "./route-runner.js";

export interface RequestHandlerOptions {
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /** Deepest nesting a JSON body may have (default: defaultJsonDepthLimit). */
  jsonDepthLimit?: number;
  /** Time limit for routes that set none, ms (undefined: no limit). */
  timeout: number | undefined;
  /** Told which route each request is, so a block of the loop can be pinned on it. */
  monitor?: LoopMonitor;
  /** Routes outside the app's table, by "METHOD path" (the docs routes): tried when no route of the app matches. */
  builtins?: Map<string, Route>;
  /** The prefix a proxy serves the app under, for `req.rootPath` ("" when none). */
  rootPath?: string;
  /** Runs queue-lane routes on worker processes (when the server has Redis). */
  queue?: QueueRunnerFactory;
}

/** Handles one request and calls `done` with its response; `fail` only for a bug in the pipeline. */
export type RequestHandler = (req: IncomingMessage, peer: Peer, done: (result: HandledRequest) => void, fail: (error: unknown) => void) => void;

export function createRequestHandler(app: App, executor: TaskExecutor, options: RequestHandlerOptions): RequestHandler {
  const pipeline = new Pipeline(app, executor, options);
  return (req, peer, done, fail) => {
    // `done` must never throw into a handler's promise chain, where it would be an unhandled rejection.
    const answer: Done = (result) => {
      // A file is opened once every middleware has had its say, with the request's Range and validators.
      if (isFileBody(result.body)) return void prepareFile(result, { method: req.method ?? "GET", headers: req.headers }).then(() => answer(result));
      try {
        done(result);
      } catch (error) {
        fail(error);
      }
    };
    try {
      pipeline.run(req, peer, answer, performance.now());
    } catch (error) {
      fail(error);
    }
  };
}

class Pipeline {
  private readonly runners = new Map<Route, RouteRunner>();
  private readonly builtins: Map<string, Route>;

  constructor(
    private readonly app: App,
    executor: TaskExecutor,
    private readonly options: RequestHandlerOptions,
  ) {
    const context = {
      executor,
      runOnPool: pooledDependencyRunner(app.dependencyIds, executor),
      defaultTimeout: options.timeout,
      queue: options.queue,
    };
    this.builtins = options.builtins ?? new Map();
    for (const route of [...app.routes, ...this.builtins.values()]) {
      this.runners.set(route, withRouteInput(route, composeRunner(route, context)));
      // Compiled now rather than on the route's first request, which would wait for it on the loop.
      if (route.lane === "loop") schemaSerializer(route.response);
    }
  }

  run(req: IncomingMessage, peer: Peer, done: Done, readAt: number): void {
    const url = originForm(req.url ?? "/");
    const queryStart = url.indexOf("?");
    const path = queryStart < 0 ? url : url.slice(0, queryStart);
    const method = req.method ?? "GET";
    if (this.app.middleware.length > 0) {
      const data = new RequestData(req, method, url, path, {}, req.headers, peer, this.options.rootPath ?? "");
      return void this.throughMiddleware(req, data, queryStart, done, readAt);
    }
    const found = this.routeFor(method, path, url, done);
    if (!found) return;
    const { route } = found;
    this.options.monitor?.routed(route.id);
    const data = new RequestData(req, method, url, path, found.params, req.headers, peer, this.options.rootPath ?? "");
    data[matchedRouteKey] = route;
    if (req.headers.cookie !== undefined) data.cookies = parseCookies(req.headers.cookie);
    this.parseThenRun(req, route, data, queryStart, readAt, done);
  }

  /**
   * The app's middleware sees the request before routing, with its query and cookies read and
   * no params yet; routing, the body and the route run when the last one calls `next()`.
   */
  private throughMiddleware(req: IncomingMessage, data: RequestData, queryStart: number, done: Done, readAt: number): void {
    const { method, url, path } = data;
    if (req.headers.cookie !== undefined) data.cookies = parseCookies(req.headers.cookie);
    try {
      if (queryStart >= 0) data.query = parseQuery(url.slice(queryStart + 1));
    } catch (error) {
      return void done(answered(errorResult(error)));
    }
    const endpoint = () =>
      new Promise<HandledRequest>((resolve) => {
        const found = this.routeFor(method, path, url, resolve);
        if (!found) return;
        this.options.monitor?.routed(found.route.id);
        data.params = found.params;
        data[matchedRouteKey] = found.route;
        this.parseThenRun(req, found.route, data, -1, readAt, resolve);
      });
    runMiddleware(this.app.middleware, data, endpoint, this.app.errors).then(done);
  }

  private parseThenRun(req: IncomingMessage, route: Route, data: RequestData, queryStart: number, readAt: number, done: Done): void {
    const url = data.url;
    try {
      if (queryStart >= 0) data.query = parseQuery(url.slice(queryStart + 1));
      const runner = this.runners.get(route)!;
      if (route.rawRequest) return void this.runRaw(req, route, data, readAt, runner, done);
      if (!hasBody(req)) {
        runner(data, readAt, done);
        return;
      }
      if (isMultipart(req.headers)) {
        // Streamed, never held whole; its temporary files are removed once the answer is made.
        readMultipart(req, data, route.accepts, route.formLimits).then(
          (release) => runner(data, readAt, releasingAfter(done, release)),
          (error) => done(rejected(error, route)),
        );
        return;
      }
      readBody(req, this.options.bodyLimit).then(
        (raw) => {
          try {
            data.rawBody = ownBytes(raw);
            data.body = parseBody(raw, req.headers["content-type"], route.accepts, this.options.jsonDepthLimit, route.formLimits.maxFields);
          } catch (error) {
            return done(rejected(error, route));
          }
          runner(data, readAt, done);
        },
        (error) => done(rejected(error, route)),
      );
    } catch (error) {
      done(rejected(error, route));
    }
  }

  /** A mounted Fetch handler reads the body itself, as a stream: it gets the Node request and the limit, and a declared length past it is a 413 at once. */
  private runRaw(req: IncomingMessage, route: Route, data: RequestData, readAt: number, runner: RouteRunner, done: Done): void {
    const limit = this.options.bodyLimit;
    if (Number(req.headers["content-length"]) > limit) return void done(rejected(tooLarge(limit), route));
    data[bodyLimitKey] = limit;
    runner(data, readAt, done);
  }

  /** The route and its params, or undefined when the framework has answered (404, 405, 400, a 307 to the path with or without its trailing slash). */
  private routeFor(method: string, path: string, url: string, done: Done): { route: Route; params: Record<string, string> } | undefined {
    const match = this.app.match(method, path);
    // A static mount's catch-all gives way to the docs routes (mounted at "/", it would hide them).
    if (match.kind === "route" && !(match.route.servesFiles && this.builtins.has(`GET ${path}`))) return match;
    if (match.kind === "bad-path") return void done(answered(statusResult(400, "Malformed request path")));
    // The documentation routes live outside the route table: a user route may take their path.
    const builtin = this.builtins.get(`${method === "HEAD" ? "GET" : method} ${path}`);
    if (builtin) return { route: builtin, params: {} };
    const allow = match.kind === "method-not-allowed" ? match.allow : [];
    if (this.builtins.has(`GET ${path}`)) allow.push(...["GET", "HEAD"].filter((m) => !allow.includes(m)));
    if (allow.length > 0) return void done(answered(statusResult(405, "Method Not Allowed", { allow: allow.join(", ") })));
    const other = this.app.redirectSlashes ? otherSlash(path) : undefined;
    if (other !== undefined && this.reaches(method, other)) {
      const location = (this.options.rootPath ?? "") + other + url.slice(path.length);
      return void done(answered({ status: 307, headers: { location }, body: "" }));
    }
    return void done(answered(statusResult(404, "Not Found")));
  }

  /** Whether `method path` reaches a route of the app or a documentation page. */
  private reaches(method: string, path: string): boolean {
    return this.app.match(method, path).kind === "route" || this.builtins.has(`${method === "HEAD" ? "GET" : method} ${path}`);
  }
}

/**
 * What a route does with its input once read, around its lane's runner: its routers'
 * middleware (which sees the body read, not yet validated), then its declared inputs, checked
 * here on the main thread so a worker only ever sees valid data. Composed once; a route with
 * neither pays for neither.
 */
function withRouteInput(route: Route, runner: RouteRunner): RouteRunner {
  let entry = runner;
  const inputs = route.inputs;
  if (inputs !== undefined) {
    entry = (data, readAt, done) => {
      let validated: void | Promise<void>;
      try {
        validated = inputs.apply(data);
      } catch (error) {
        return invalidInput(route, data, error, done);
      }
      if (validated instanceof Promise) {
        validated.then(
          () => runner(data, readAt, done),
          (error) => invalidInput(route, data, error, done),
        );
      } else runner(data, readAt, done);
    };
  }
  if (route.middleware.length === 0) return entry;
  const inner = entry;
  return (data, readAt, done) => {
    const endpoint = () => new Promise<HandledRequest>((resolve) => inner(data, readAt, resolve));
    runMiddleware(route.middleware, data, endpoint, route.errors).then(done);
  };
}

/** The answer for input the route's schemas refuse: a 422, or what its exception handler says. */
function invalidInput(route: Route, data: HttpRequest, error: unknown, done: Done): void {
  const result = route.errors.respond(error, data);
  if (result instanceof Promise) result.then((r) => done(handled(r, route, "loop", undefined)));
  else done(handled(result, route, "loop", undefined));
}

/** Input that could not be read or parsed: answered before the route's lane is involved. */
function rejected(error: unknown, route: Route): HandledRequest {
  return handled(errorResult(error), route, "loop", undefined);
}

/** The framework's own answer before any route (404, 405, a malformed path or query). */
function answered(result: RouteResult): HandledRequest {
  return handled(result, undefined, "loop", undefined);
}

/**
 * The body's bytes in a buffer of their own: a chunk read from the socket may be a view of a
 * larger buffer, all of which would be copied when the request crosses to a worker.
 */
function ownBytes(raw: Buffer): Uint8Array {
  return raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? raw : new Uint8Array(raw);
}

/**
 * The same path with its trailing slash taken off or added (FastAPI's `redirect_slashes`). Never
 * one that starts with two slashes: `//evil.example/` without its slash would send the client
 * to another host.
 */
export function otherSlash(path: string): string | undefined {
  if (path === "/" || path === "") return undefined;
  const other = path.endsWith("/") ? path.slice(0, -1) : `${path}/`;
  return /^[/\\]{2}/.test(other) || other === "" ? undefined : other;
}
