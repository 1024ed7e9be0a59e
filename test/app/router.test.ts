// Route registration and matching, without a server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { App, Router } from "loopwise";
import { internalRoute } from "../helpers.ts";

test("routes get ids in registration order and lanes from how they are declared", () => {
  const app = new App();
  app.get("/a", async () => 1);
  app.post("/b", () => 2);
  app.put("/c", { lane: "loop" }, () => 3);
  app.delete("/d", { lane: "worker" }, async () => 4);
  assert.deepEqual(
    app.routes.map((r) => [internalRoute(r).id, r.method, r.path, r.lane]),
    [
      [0, "GET", "/a", "loop"],
      [1, "POST", "/b", "worker"],
      [2, "PUT", "/c", "loop"],
      [3, "DELETE", "/d", "worker"],
    ],
  );
  assert.deepEqual(app.signature().slice(0, 2), ["route 0 GET /a loop", "route 1 POST /b worker"]);
});

test("a new App records the module that created it", () => {
  const app = new App();
  assert.equal(app.moduleUrl, import.meta.url);
});

test("match finds params, falls back from HEAD to GET, and tells 404 from 405", () => {
  const app = new App();
  app.get("/users/:userId/items/:itemId", () => null);
  app.post("/users", () => null);
  const found = app.match("GET", "/users/7/items/x%20y");
  assert.equal(found.kind, "route");
  assert.deepEqual(found.kind === "route" && { ...found.params }, { userId: "7", itemId: "x y" });
  assert.equal(app.match("HEAD", "/users/7/items/1").kind, "route");
  assert.deepEqual(app.match("GET", "/users"), { kind: "method-not-allowed", allow: ["POST"] });
  assert.deepEqual(app.match("GET", "/nothing"), { kind: "not-found" });
});

test("routers add their prefix and can be nested", () => {
  const inner = new Router({ prefix: "/items/" });
  inner.get("/:id", () => null);
  const outer = new Router({ prefix: "/api" });
  outer.include(inner);
  const app = new App();
  app.include(outer);
  assert.deepEqual(
    app.routes.map((r) => r.path),
    ["/api/items/:id"],
  );
});

test("registration mistakes are caught at once with a clear message", () => {
  const app = new App();
  app.get("/x", () => null);
  assert.throws(() => app.get("/x", () => null), /already declared/);
  assert.throws(() => app.get("no-slash", () => null), /must start with "\/"/);
  assert.throws(() => app.route("TRACE" as never, "/t", {}, () => null), /unsupported HTTP method/);
  assert.throws(() => app.get("/s", { status: 99 }, () => null), /must be an HTTP status code/);
  assert.throws(() => app.get("/l", { lane: "thread" as never }, () => null), /lane for GET \/l must be "loop", "worker" or "queue", got "thread"/);
  assert.throws(() => new Router({ prefix: "api" }), /prefix must start with "\/"/);
});
