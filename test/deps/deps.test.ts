// Dependencies: the lane rule proved by thread ids, per-request caching, request access,
// cleanup order, errors, app- and router-level dependencies. Through the in-process client.
import assert from "node:assert/strict";
import { threadId } from "node:worker_threads";
import { after, before, test } from "node:test";
import { App, depends } from "loopwise";
import { TestClient } from "loopwise/testing";
import { app, events } from "../fixtures/deps-app.ts";

let client: TestClient;
before(async () => {
  // One worker, so the worker's record of events is the whole story.
  client = await TestClient.start(app, { poolSize: 1 });
});
after(() => client.close());

test("a loop route runs async dependencies on the loop and plain ones on the pool", async () => {
  const res = await client.get("/loop/lanes");
  assert.equal(res.lane, "loop");
  const { handler, onLoop, onPool } = res.json();
  assert.equal(handler, threadId);
  assert.equal(onLoop, threadId);
  assert.notEqual(onPool, threadId);
});

test("a worker route resolves all its dependencies, async ones too, inside its worker", async () => {
  const res = await client.get("/worker/lanes");
  assert.match(res.lane, /^worker#/);
  const { handler, onLoop, onPool } = res.json();
  assert.notEqual(handler, threadId);
  assert.equal(onLoop, handler);
  assert.equal(onPool, handler);
});

test("a dependency needed twice in one request runs once; a new request runs it again", async () => {
  for (const path of ["/loop/cached", "/worker/cached"]) {
    const first = (await client.get(path)).json();
    assert.equal(first.left, first.random, path);
    assert.equal(first.right, first.random, path);
    const second = (await client.get(path)).json();
    assert.notEqual(second.random, first.random, path);
  }
});

test("dependencies see the request, validated; app-level dependencies run for every route", async () => {
  const before = (await client.get("/requests-seen")).json().requestsSeen;
  assert.deepEqual((await client.get("/caller", { query: { n: 3 }, headers: { "x-caller": "ada" } })).json(), { caller: "ada", n: 3 });
  assert.equal((await client.get("/requests-seen")).json().requestsSeen, before + 2);
});

test("an HttpError raised by a pooled dependency keeps its status, detail and headers", async () => {
  const denied = await client.get("/loop/auth");
  assert.equal(denied.status, 401);
  assert.deepEqual(denied.json(), { detail: "Not authenticated" });
  assert.equal(denied.headers["www-authenticate"], "Bearer");
  assert.deepEqual((await client.get("/loop/auth", { headers: { authorization: "Bearer good" } })).json(), { user: "ada" });
});

test("a pooled dependency whose value cannot be cloned is a 500 for the client and a clear error naming it", async () => {
  const res = await client.get("/loop/unclonable");
  assert.equal(res.status, 500);
  assert.deepEqual(res.json(), { detail: "Internal Server Error" });
  assert.doesNotMatch(res.text, /makeConnection|at /);
  assert.equal(res.error?.name, "DependencyCloneError");
  assert.match(
    res.error?.message ?? "",
    /^dependency makeConnection returned a function \(query\) at \.query, which cannot be copied to another thread at all/,
  );
});

test("cleanups run after the handler, innermost first, and see the handler's error", async () => {
  events.length = 0;
  assert.deepEqual((await client.get("/loop/cleanup")).json(), { ok: true });
  assert.deepEqual(events, ["outer setup", "inner setup", "handler got inner", "inner cleanup", "outer cleanup"]);
  events.length = 0;
  const failed = await client.get("/loop/cleanup-fails");
  assert.equal(failed.status, 500);
  assert.deepEqual(events, ["outer setup", "inner setup", "handler throws", "inner saw boom", "inner cleanup", "outer cleanup"]);
});

test("a worker route's generator dependency opens and closes in its worker", async () => {
  await client.get("/worker/events");
  await client.get("/worker/cleanup");
  const { events: workerEvents, thread } = (await client.get("/worker/events")).json();
  assert.notEqual(thread, threadId);
  assert.deepEqual(workerEvents, ["resource open", "handler used resource", "resource closed"]);
});

test("router-level dependencies guard every route of the router", async () => {
  assert.equal((await client.get("/admin/stats")).status, 403);
  assert.deepEqual((await client.get("/admin/stats", { headers: { "x-key": "k" } })).json(), { secret: 42 });
});

test("registration refuses what cannot work, with a message that says why", () => {
  const plainGenerator = depends(function* conn() {
    yield 1;
  });
  assert.throws(
    () => new App().get("/x", { deps: { plainGenerator } }, async () => null),
    /conn is a plain generator.*make it an async generator, or make the route plain/,
  );
  assert.throws(() => new App().get("/y", { deps: { bad: (() => 1) as never } }, async () => null), /dependency "bad" is not one/);
  const a: any = depends(async () => 1);
  const cyclic = depends({ deps: { a } }, async () => 2);
  a.deps.self = cyclic;
  assert.throws(() => new App().get("/z", { deps: { cyclic } }, async () => null), /dependency cycle/);
});
