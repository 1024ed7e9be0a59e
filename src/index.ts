// Loopwise: async handlers on the event loop, plain handlers on a pool of worker threads.
// app.listen() is added to App by the server floor (server/listen.ts).
//
// Every pool worker imports the app module, and so this entry, the core: App, Router, routes,
// dependencies, lanes, responses, errors. The rest is in subpaths an app imports when it uses
// them (loopwise/testing, loopwise/security, loopwise/middleware, loopwise/queue), as Hono
// does. The server and its metrics load when `serve()` is first called, on the main thread
// alone: eagerly, they doubled what each worker costs to start (see docs/worker-lane.md).
import "./server/listen.js";
import type { App } from "./app/app.js";
import type { RunningServer, ServeOptions } from "./server/serve.js";
export { App, type AppOptions } from "./app/app.js";
export {
  Router,
  type Handler,
  type HandlerFor,
  type HttpMethod,
  type RequestFor,
  type RouteDocs,
  type RouteOptions,
  type RouteLane,
  type RouteMethod,
  type RouterOptions,
} from "./app/router.js";
export type { DeclaredResponses, RouteSpec, RouteTable, RoutesOf } from "./app/route-types.js";
export { reply, type Reply } from "./http/reply.js";
export { HttpError } from "./http/http-error.js";
export { WebSocketDenied, WebSocketDisconnect, WebSocketError, closeCodes } from "./http/websocket-errors.js";
export type { ServerWebSocket, WebSocketClosed, WebSocketMessage } from "./app/server-websocket.js";
export type { WebSocketFor, WebSocketHandlerFor, WebSocketMethod, WebSocketRoute, WebSocketRouteOptions } from "./app/websocket-route.js";
export { ResponseValidationError } from "./lanes/invoke.js";
export { DependencyCloneError } from "./app/pooled-dependency.js";
export type { ErrorHandler } from "./app/error-handlers.js";
export { RequestValidationError, type ErrorBody, type HTTPValidationError, type ValidationIssue } from "./params/validation-error.js";
export type { StandardSchemaV1 } from "./params/standard-schema.js";
export type { InputSchemas } from "./params/input-plan.js";
export { UploadFile } from "./params/upload-file.js";
export { defaultFormLimits, type FormLimits } from "./params/form-limits.js";
export { depends, type Dependency, type DependencyValues } from "./deps/dependency.js";
export { backgroundTasks } from "./deps/background-tasks.js";
export type { DependencyOverrides, Replacement } from "./deps/overrides.js";
export { backgroundFunction, type BackgroundTasks } from "./threads/background-tasks.js";
export { openApiDocument } from "./openapi/openapi-document.js";
export type { DocsOptions } from "./app/app.js";
export type { Contact, DocumentMetadata, License, Server, TagInfo } from "./app/document-info.js";
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
export { staticFiles, type StaticFilesOptions } from "./app/static-files.js";
export type { FetchHandler, FetchMountOptions } from "./app/fetch-mount.js";
export { setCookie, deleteCookie, type CookieJar, type CookieOptions, type CookieSetting } from "./http/cookies.js";
export type { Middleware, Next } from "./app/middleware.js";
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
export { defaultJsonDepthLimit } from "./params/json-depth.js";
export { settings, SettingsError, type SettingsOptions, type SettingsProblem } from "./params/settings.js";
export type { LogFormat } from "./server/logger.js";
export { log, AppLogger, type LogMethod } from "./log/app-log.js";
export { logLevels, type LogLevel } from "./log/levels.js";

/**
 * Starts the pool (each worker imports the app and checks its routes), then the HTTP server.
 * The uvicorn part of Loopwise: startup lines, access log, graceful shutdown.
 */
export async function serve(app: App, options: ServeOptions = {}): Promise<RunningServer> {
  const server = await import("./server/serve.js");
  return server.serve(app, options);
}
