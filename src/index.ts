// Loopwise: async handlers on the event loop, plain handlers on a pool of worker threads.
// app.listen() is added to App by the server floor (server/listen.ts).
//
// Every pool worker imports the app module, and so this entry: it loads only what an app module
// needs (App, Router, responses, dependencies, the threads API). The server, its metrics and the
// TestClient load when `serve()` or `TestClient.start()` is first called, on the main thread
// alone: eagerly, they doubled what each worker costs to start (see docs/worker-lane.md).
import "./server/listen.js";
import type { App } from "./app/app.js";
import type { RunningServer, ServeOptions } from "./server/serve.js";
import type { RunningWorker, WorkerProcessOptions } from "./server/worker-process.js";
import type { TestClient as TestClientClass, TestClientOptions } from "./testing/test-client.js";
export { App, type AppOptions } from "./app/app.js";
export {
  Router,
  type Handler,
  type HandlerFor,
  type HttpMethod,
  type RequestFor,
  type Route,
  type RouteDocs,
  type RouteOptions,
  type RouteLane,
  type RouteMethod,
  type RouterOptions,
} from "./app/router.js";
export { HTTPError } from "./http/http-error.js";
export { WebSocketDenied, WebSocketDisconnect, WebSocketError, closeCodes } from "./http/websocket-errors.js";
export type { ServerWebSocket, WebSocketClosed, WebSocketMessage } from "./app/server-websocket.js";
export type { WebSocketFor, WebSocketHandlerFor, WebSocketMethod, WebSocketRoute, WebSocketRouteOptions } from "./app/websocket-route.js";
export { ResponseValidationError } from "./lanes/invoke.js";
export { DependencyCloneError } from "./app/pooled-dependency.js";
export type { ErrorHandler } from "./app/error-handlers.js";
export { RequestValidationError, type ValidationIssue } from "./params/validation-error.js";
export type { StandardSchemaV1 } from "./params/standard-schema.js";
export type { InputSchemas } from "./params/input-plan.js";
export { UploadFile } from "./params/upload-file.js";
export { defaultFormLimits, type FormLimits } from "./params/form-limits.js";
export { depends, type Dependency, type DependencyValues } from "./deps/dependency.js";
export { backgroundTasks } from "./deps/background-tasks.js";
export type { DependencyOverrides, Replacement } from "./deps/overrides.js";
export { backgroundTask, type BackgroundTasks } from "./threads/background-tasks.js";
export { openApiDocument } from "./openapi/openapi-document.js";
export {
  httpBasic,
  httpBearer,
  type HTTPAuthorizationCredentials,
  type HTTPBasicCredentials,
  type HTTPBasicOptions,
  type HTTPBearerOptions,
} from "./security/http-auth.js";
export { apiKeyCookie, apiKeyHeader, apiKeyQuery, type APIKeyOptions } from "./security/api-key.js";
export {
  oauth2PasswordBearer,
  oauth2PasswordForm,
  type OAuth2PasswordBearerOptions,
  type OAuth2PasswordRequestForm,
} from "./security/oauth2.js";
export type { SecurityOptions } from "./security/scheme.js";
export { compareSecrets } from "./security/compare-secrets.js";
export type { DocsOptions } from "./app/app.js";
export type { TestClientOptions, TestRequest, TestResponse } from "./testing/test-client.js";
export type { TestWebSocket, TestWebSocketClosed, TestWebSocketInit } from "./testing/test-websocket.js";
export {
  json,
  text,
  html,
  bytes,
  redirect,
  stream,
  type BodyChunk,
  type HeaderValue,
  type OutgoingResponse,
  type ResponseInit,
  type StreamBody,
} from "./http/response.js";
export { sse, jsonLines, type EventStreamInit, type ServerSentEvent } from "./http/event-stream.js";
export { encodeJson, JsonEncodingError } from "./http/json-encoding.js";
export { file, type FileInit } from "./http/file-response.js";
export { staticFiles, StaticFiles, type StaticFilesOptions } from "./app/static-files.js";
export { setCookie, deleteCookie, type CookieJar, type CookieOptions, type CookieSetting } from "./http/cookies.js";
export type { Middleware, Next } from "./app/middleware.js";
export * from "./middleware/index.js";
export type { HttpRequest, Query, Headers, Scheme } from "./http/request.js";
export type { BackgroundOutcome } from "./lanes/background.js";
export type { PathParams } from "./http/path-params.js";
export { blocking, offload } from "./threads/offload.js";
export { sleepSync } from "./threads/sleep-sync.js";
export { SharedCounter, SharedTable } from "./threads/shared-state.js";
export { Bulkhead } from "./threads/bulkhead.js";
export { ContextVar } from "./threads/context-var.js";
export type { Lane } from "./threads/lane.js";
export { defaultPoolSize } from "./pool/pool-options.js";
export type { ServeOptions, RunningServer } from "./server/serve.js";
export type { WorkerProcessOptions, RunningWorker } from "./server/worker-process.js";
export {
  durableJob,
  DurableJob,
  type DurableJobOptions,
  type DurableJobState,
  type DurableJobStatus,
  type EnqueueOptions,
} from "./queue/durable-job.js";
export { defaultJsonDepthLimit } from "./params/json-depth.js";
export type { LogFormat } from "./server/logger.js";

/**
 * Starts the pool (each worker imports the app and checks its routes), then the HTTP server.
 * The uvicorn part of Loopwise: startup lines, access log, graceful shutdown.
 */
export async function serve(app: App, options: ServeOptions = {}): Promise<RunningServer> {
  const server = await import("./server/serve.js");
  return server.serve(app, options);
}

/**
 * Runs the app's queue-lane routes and durable jobs, taken from Redis (what `loopwise worker` does):
 * plain handlers on this process's pool, async ones on its loop. No HTTP.
 */
export async function runWorker(app: App, options: WorkerProcessOptions): Promise<RunningWorker> {
  const worker = await import("./server/worker-process.js");
  return worker.runWorker(app, options);
}

/**
 * The in-process client for tests (FastAPI's TestClient): requests go through the whole
 * pipeline, both lanes and the real worker pool, without a socket.
 *
 *     const client = await TestClient.start(app);
 *     const res = await client.get("/items", { query: { limit: 5 } });
 *     await client.close();
 */
export type TestClient = TestClientClass;
export const TestClient: Pick<typeof TestClientClass, "start"> = {
  async start(app: App, options?: TestClientOptions): Promise<TestClient> {
    const testing = await import("./testing/test-client.js");
    return testing.TestClient.start(app, options);
  },
};
