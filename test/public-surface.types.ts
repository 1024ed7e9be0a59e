// Compile-time checks (run by `npm run typecheck`) of the published surface: the root holds the
// core, the rest is in subpaths, each name is spelled one way, and a route shows users only the
// fields they may read.
import { App, HttpError, type HttpMethod, type HttpRequest, staticFiles } from "loopwise";
import { cors, requestId } from "loopwise/middleware";
import { durableJob, runWorker } from "loopwise/queue";
import { type ApiKeyOptions, apiKeyHeader, type HttpBasicCredentials, httpBasic } from "loopwise/security";
import { TestClient } from "loopwise/testing";
// @ts-expect-error: the security dependencies are in loopwise/security
import { httpBearer } from "loopwise";
// @ts-expect-error: the built-in middleware is in loopwise/middleware
import { compression } from "loopwise";
// @ts-expect-error: the TestClient is in loopwise/testing
import { TestClient as RootTestClient } from "loopwise";
// @ts-expect-error: durable jobs are in loopwise/queue
import { durableJob as rootDurableJob } from "loopwise";
// @ts-expect-error: one spelling for acronyms, as words
import { HTTPError } from "loopwise";
// @ts-expect-error: a route's table entry is the framework's
import type { Route } from "loopwise";
// @ts-expect-error: staticFiles() makes them
import { StaticFiles } from "loopwise";

const app = new App();
app.get("/", async () => ({ ok: true }));
const route = app.routes[0]!;
const seen: [HttpMethod, string, string] = [route.method, route.path, route.name];
// @ts-expect-error: the route's pipeline is not part of its published type
route.steps;
// @ts-expect-error: read-only for users
route.path = "/elsewhere";

export const used = [HttpError, staticFiles, cors, requestId, durableJob, runWorker, apiKeyHeader, httpBasic, TestClient, seen];
export type Used = [HttpRequest, ApiKeyOptions, HttpBasicCredentials];
export const moved = [httpBearer, compression, RootTestClient, rootDurableJob, HTTPError, StaticFiles];
export type Moved = Route;
