// Loopwise: async handlers on the event loop, plain handlers on a pool of worker threads.
// app.listen() is added to App by the server floor (server/listen.ts).
import "./server/listen.js";
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
  type RouteMethod,
  type RouterOptions,
} from "./app/router.js";
export { HTTPError } from "./http/http-error.js";
export { ResponseValidationError } from "./app/invoke.js";
export { DependencyCloneError } from "./app/pooled-dependency.js";
export type { ErrorHandler } from "./app/error-handlers.js";
export { RequestValidationError, type ValidationIssue } from "./params/validation-error.js";
export type { StandardSchemaV1 } from "./params/standard-schema.js";
export type { InputSchemas } from "./params/input-plan.js";
export { depends, type Dependency, type DependencyValues } from "./deps/dependency.js";
export { openApiDocument } from "./openapi/openapi-document.js";
export type { DocsOptions } from "./app/app.js";
export { TestClient, type TestClientOptions, type TestRequest, type TestResponse } from "./testing/test-client.js";
export { json, text, html, bytes, redirect, type HeaderValue, type OutgoingResponse, type ResponseInit } from "./http/response.js";
export type { HttpRequest, Query, Headers } from "./http/request.js";
export type { PathParams } from "./http/path-params.js";
export { blocking, offload } from "./threads/offload.js";
export { sleepSync } from "./threads/sleep-sync.js";
export { SharedCounter, SharedTable } from "./threads/shared-state.js";
export { Bulkhead } from "./threads/bulkhead.js";
export type { Lane } from "./threads/lane.js";
export { defaultPoolSize } from "./pool/pool.js";
export { serve, type ServeOptions, type RunningServer } from "./server/serve.js";
export { defaultJsonDepthLimit } from "./params/json-depth.js";
export type { LogFormat } from "./server/logger.js";
