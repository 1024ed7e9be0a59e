// The in-process client: the whole pipeline and the real pool, without a socket.
import assert from "node:assert/strict";
import { threadId } from "node:worker_threads";
import { after, before, test } from "node:test";
import { TestClient } from "loopwise/testing";
import { app as basics } from "../../examples/basics/main.ts";
import { app } from "../fixtures/typed-app.ts";
import { listensDuring } from "../helpers.ts";

let client: TestClient;
before(async () => {
  client = await TestClient.start(app);
});
after(() => client.close());

test("exercises both lanes with the pool running, and opens no port", async () => {
  const listening = await listensDuring(async () => {
    const loop = await client.get("/items", { query: { limit: 2, tag: ["a", "b"] } });
    assert.equal(loop.lane, "loop");
    assert.deepEqual(loop.json(), { limit: 2, tag: ["a", "b"], thread: threadId });
    const worker = await client.post("/items", { json: { name: "pen", price: 1 } });
    assert.equal(worker.status, 201);
    assert.match(worker.lane, /^worker#[12]$/);
    assert.notEqual(worker.json().thread, threadId);
  });
  assert.deepEqual(listening, []);
});

test("sends headers, cookies and raw bodies; answers 404, 405 and 422 like the server", async () => {
  const me = await client.get("/me", { headers: { "X-Token": "abcd" }, cookies: { session: "s 1" } });
  assert.deepEqual(me.json(), { token: "abcd", session: "s 1" });
  assert.equal((await client.get("/nowhere")).status, 404);
  const wrong = await client.delete("/items");
  assert.equal(wrong.status, 405);
  assert.match(wrong.headers.allow!, /GET/);
  const bad = await client.post("/items", { body: "{oops", headers: { "content-type": "application/json" } });
  assert.equal(bad.status, 400);
  assert.equal((await client.get("/items", { query: { limit: 0 } })).status, 422);
});

test("offload() reaches the client's pool from an async route", async () => {
  const other = await TestClient.start(basics, { poolSize: 1 });
  try {
    const res = await other.post("/hash", { json: { password: "pw" } });
    assert.equal(res.status, 200);
    assert.equal(res.json().hash.length, 64);
  } finally {
    await other.close();
  }
});

test("an app module that starts its own TestClient fails at once with a clear message, not a pool in every worker", async () => {
  await assert.rejects(import("../fixtures/self-starting-app.ts"), (error: Error) => {
    assert.match(error.message, /a server or TestClient was started inside a pool worker/);
    assert.match(error.message, /Keep the app in a module of its own/);
    return true;
  });
});
