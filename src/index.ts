// Loopwise: async handlers on the event loop, plain handlers on a pool of worker threads.
export { App } from "./app/app.js";
export { Router, type Handler, type HttpMethod, type Route, type RouteOptions, type RouteMethod } from "./app/router.js";
export { HTTPError } from "./app/http-error.js";
export { json, text, html, bytes, redirect, type OutgoingResponse, type ResponseInit } from "./app/response.js";
export type { HttpRequest, Query, Headers } from "./app/request.js";
export type { PathParams } from "./app/path-params.js";
export { blocking, offload } from "./lanes/offload.js";
export { sleepSync } from "./lanes/sleep-sync.js";
export { SharedCounter, SharedTable } from "./lanes/shared-state.js";
export { Bulkhead } from "./lanes/bulkhead.js";
export type { Lane } from "./lanes/lane.js";
export { defaultPoolSize } from "./lanes/pool.js";
export { serve, type ServeOptions, type RunningServer } from "./server/serve.js";
export type { LogFormat } from "./server/logger.js";
