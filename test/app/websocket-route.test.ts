// Registering WebSocket routes: what is refused at once, with a message that says why.
import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { App, Router, WebSocketError, closeCodes, depends } from "loopwise";

const handler = async () => {};

test("a WebSocket route cannot run on the worker lane, take a body, or have bad options", () => {
  const app = new App();
  assert.throws(() => app.websocket("/a", { lane: "worker" } as never, handler), /runs on the event loop.*offload/);
  assert.throws(() => app.websocket("/a", { body: z.object({}) } as never, handler), /has no body/);
  assert.throws(() => app.websocket("a", handler), /must start with "\/"/);
  assert.throws(() => app.websocket("/a", {}, "nope" as never), /not a function/);
  assert.throws(() => app.websocket("/a", { subprotocols: ["has space"] }, handler), /subprotocols must be a list of tokens/);
  assert.throws(() => app.websocket("/a", { maxMessageSize: 0 }, handler), /maxMessageSize must be a positive whole number/);
  assert.throws(() => app.websocket("/a", { deps: { x: (() => 1) as never } }, handler), /dependency "x" is not one/);
  assert.throws(() => app.websocket("/a", { query: "schema" as never }, handler), /"query" must be a Standard Schema/);
  // A plain generator dependency would run on the pool, away from its cleanup: refused as for loop-lane routes.
  const plainCleanup = depends(function* plainCleanup() {
    yield 1;
  });
  assert.throws(() => app.websocket("/a", { deps: { x: plainCleanup } }, handler), /WEBSOCKET \/a: dependency plainCleanup is a plain generator/);
});

test("a plain handler is accepted and runs on the loop; the same path may have a GET route and a WebSocket route", () => {
  const app = new App();
  app.get("/feed", async () => "page");
  app.websocket("/feed", () => {});
  assert.equal(app.match("GET", "/feed").kind, "route");
  const found = app.matchWebSocket("/feed");
  assert.equal(found.kind, "route");
  assert.equal(app.matchWebSocket("/other").kind, "not-found");
  assert.equal(app.matchWebSocket("/feed/%E0%A4%A").kind, "bad-path");
});

test("routers carry WebSocket routes under their prefix, with their dependencies first", () => {
  const guard = depends(async function guard() {});
  const own = depends(async function own() {});
  const inner = new Router({ prefix: "/rooms", dependencies: [guard] });
  inner.websocket("/:room", { dependencies: [own] }, handler);
  const app = new App();
  app.include(new Router({ prefix: "/api" }).include(inner));
  const found = app.matchWebSocket("/api/rooms/kitchen");
  assert.ok(found.kind === "route");
  assert.deepEqual({ ...found.params }, { room: "kitchen" });
  assert.deepEqual(
    found.route.plan.map((d) => d.name),
    ["guard", "own"],
  );
  assert.ok(app.signature().includes("websocket 0 /api/rooms/:room"));
});

test("WebSocketError checks its code and cuts a long reason", () => {
  assert.throws(() => new WebSocketError(1006), /1006 is not a close code a server may send/);
  assert.throws(() => new WebSocketError(5000), /not a close code/);
  assert.equal(new WebSocketError(closeCodes.policyViolation, "x".repeat(200)).reason.length, 123);
  assert.equal(new WebSocketError(4000, "😀".repeat(40)).reason, "😀".repeat(30));
});
