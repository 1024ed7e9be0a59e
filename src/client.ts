// `loopwise/client`: a client typed from the app, without code generation. It imports only
// the app's types, so it runs in a browser, in Node, or over a TestClient in memory:
//
//     import { createClient } from "loopwise/client";
//     import type { app } from "./main.ts";
//     const api = createClient<typeof app>("http://127.0.0.1:8000");
//     const { data, error } = await api.get("/items/:id", { params: { id: 3 } });
export { createClient, type ClientOptions, type Fetcher } from "./client/create-client.js";
export type { CallOptions, Client, ClientResult, InitArgs, PathsFor, RequestInit } from "./client/client-types.js";
export type { ErrorBody, HTTPValidationError, ValidationIssue } from "./params/validation-error.js";
