// The examples the README shows, run as they are.
import assert from "node:assert/strict";
import { pbkdf2Sync } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { TestClient } from "loopwise/testing";
import { app } from "../examples/basics/main.ts";
import { app as shop, closed } from "../examples/typed/main.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { captureLogs, delay, request, spawnServer, type ChildServer } from "./helpers.ts";
import { eventually, spawnWorker, startRedis, type ChildWorker, type RedisServer } from "./redis.ts";

describe("examples/basics", () => {
  let server: RunningServer;
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, logWrite: captureLogs().write });
  });
  after(() => server.close());

  test("offload() hashes on the pool from an async route", async () => {
    const reply = await request(server.url + "/hash", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: "hunter2" }),
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.json.hash, pbkdf2Sync("hunter2", "salt", 100_000, 32, "sha256").toString("hex"));
  });

  test("path params, repeated query keys and HttpError", async () => {
    assert.deepEqual((await request(server.url + "/items/7?tag=a&tag=b")).json, { id: "7", tags: ["a", "b"] });
    const missing = await request(server.url + "/items/0");
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { detail: "Item not found" });
  });

  test("route status and json() with headers", async () => {
    const created = await request(server.url + "/items", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name":"x"}',
    });
    assert.equal(created.status, 201);
    assert.deepEqual(created.json, { name: "x" });
    const teapot = await request(server.url + "/teapot");
    assert.equal(teapot.status, 418);
    assert.equal(teapot.headers["x-kind"], "teapot");
  });
});

describe("examples/shared-state", () => {
  test("the shared counter sees every hit; the module global counts per worker", async () => {
    const { app: shared } = await import("../examples/shared-state/main.ts");
    const server = await serve(shared, { port: 0, poolSize: 2, logWrite: captureLogs().write });
    try {
      const replies = await Promise.all(Array.from({ length: 40 }, () => request(server.url + "/hit", { method: "POST" })));
      await request(server.url + "/vote/1", { method: "POST" });
      await request(server.url + "/vote/1", { method: "POST" });
      const stats = (await request(server.url + "/stats")).json;
      assert.equal(stats.hits, 40);
      assert.deepEqual(stats.votes, [0, 2, 0]);
      // Each worker's own copy of `perThread` never reaches 40 unless one worker took every hit.
      const maxPerThread = Math.max(...replies.map((r) => r.json.perThread));
      assert.ok(maxPerThread <= 40);
      assert.deepEqual([...new Set(replies.map((r) => r.json.hits))].length, 40, "two hits saw the same count");
    } finally {
      await server.close();
    }
  });
});

describe("examples/todos", () => {
  let server: ChildServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "loopwise-todos-"));
    const main = fileURLToPath(new URL("../examples/todos/main.ts", import.meta.url));
    // A long wait limit: on a loaded machine the default 5 s may shed the tail of the 200
    // concurrent writes below (a 503, as designed); what is checked here is that each is stored.
    server = await spawnServer(`${main}:app`, ["--pool-size", "4", "--max-queue-wait", "60000"], { TODOS_DB: join(dir, "todos.db") });
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const send = (method: string, path: string, body?: unknown) =>
    request(server.url + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  test("create, read, update, list, delete, with validated bodies and 404s", async () => {
    const created = await send("POST", "/todos", { title: "  write docs  " });
    assert.equal(created.status, 201);
    const id = created.json.id;
    assert.deepEqual(created.json, { id, title: "write docs", done: false });
    assert.deepEqual((await send("GET", `/todos/${id}`)).json, created.json);
    assert.deepEqual((await send("PATCH", `/todos/${id}`, { done: true })).json, { id, title: "write docs", done: true });
    // A PATCH changes what was sent only: the title alone leaves done as it is (no default resets it).
    assert.deepEqual((await send("PATCH", `/todos/${id}`, { title: "review docs" })).json, { id, title: "review docs", done: true });
    assert.deepEqual((await send("PATCH", `/todos/${id}`, {})).json, { id, title: "review docs", done: true });
    assert.equal((await send("PATCH", `/todos/${id}`, { done: null })).status, 422);
    await send("PATCH", `/todos/${id}`, { title: "write docs" });
    assert.deepEqual((await send("GET", "/todos?done=true")).json, [{ id, title: "write docs", done: true }]);
    assert.deepEqual((await send("GET", "/todos?done=false")).json, []);
    const invalid = await send("POST", "/todos", { title: "", done: "yes" });
    assert.equal(invalid.status, 422);
    assert.deepEqual(
      invalid.json.detail.map((e: any) => e.loc),
      [
        ["body", "title"],
        ["body", "done"],
      ],
    );
    assert.equal((await send("GET", "/todos/abc")).status, 422);
    const deleted = await send("DELETE", `/todos/${id}`);
    assert.equal(deleted.status, 204);
    assert.equal(deleted.text, "");
    assert.deepEqual((await send("GET", `/todos/${id}`)).json, { detail: "Todo not found" });
    assert.equal((await send("DELETE", `/todos/${id}`)).status, 404);
  });

  test("concurrent writes from every worker are all stored", async () => {
    const before = server.access.length;
    const titles = Array.from({ length: 200 }, (_, i) => `todo ${i}`);
    const replies = await Promise.all(titles.map((title) => send("POST", "/todos", { title })));
    assert.deepEqual(
      replies.map((r) => r.status),
      titles.map(() => 201),
    );
    assert.equal(new Set(replies.map((r) => r.json.id)).size, 200);
    await delay(100);
    const lanes = new Set(
      server.access
        .slice(before)
        .filter((e) => e.method === "POST")
        .map((e) => e.lane),
    );
    assert.deepEqual([...lanes].sort(), ["worker#1", "worker#2", "worker#3", "worker#4"], "every worker wrote");
    const listed = (await send("GET", "/todos?limit=1000")).json;
    assert.deepEqual(
      listed
        .map((t: any) => t.title)
        .filter((t: string) => t.startsWith("todo "))
        .sort(),
      [...titles].sort(),
    );
    // Read back through a connection of our own: the rows are in the file, WAL mode on.
    const db = new Database(join(dir, "todos.db"), { readonly: true });
    try {
      assert.equal((db.prepare("SELECT count(*) AS n FROM todos WHERE title LIKE 'todo %'").get() as { n: number }).n, 200);
      assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    } finally {
      db.close();
    }
  });

  test("async routes run on the loop, and /docs documents the API", async () => {
    const health = await send("GET", "/health");
    assert.deepEqual(health.json, { status: "ok", thread: 0 });
    const doc = (await send("GET", "/openapi.json")).json;
    assert.deepEqual(Object.keys(doc.paths).sort(), ["/health", "/todos", "/todos/{id}"]);
    assert.deepEqual(Object.keys(doc.paths["/todos/{id}"]).sort(), ["delete", "get", "patch"]);
    assert.equal((await send("GET", "/docs")).status, 200);
  });
});

describe("examples/typed", () => {
  // The README's test-client example, from here to the end of the first test.
  let client: TestClient;
  before(async () => {
    client = await TestClient.start(shop, { poolSize: 1 });
  });
  after(() => client.close());

  test("search coerces the query and answers 422 in FastAPI's shape", async () => {
    const ok = await client.get("/search", { query: { q: "pen", limit: 5, tag: ["a", "b"] } });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json(), { q: "pen", limit: 5, tag: ["a", "b"] });

    const bad = await client.get("/search?limit=1000");
    assert.equal(bad.status, 422);
    assert.deepEqual(
      bad.json().detail.map((e: { loc: unknown[] }) => e.loc),
      [
        ["query", "q"],
        ["query", "limit"],
      ],
    );
  });

  test("a worker-lane body route, a response schema that strips, typed path params", async () => {
    const created = await client.post("/items", { json: { name: "pen", price: 2 } });
    assert.equal(created.status, 201);
    assert.match(created.lane, /^worker#/);
    assert.deepEqual(created.json(), { id: 1, name: "pen", price: 2 });
    assert.deepEqual((await client.get("/items/42")).json(), { id: 42 });
  });

  test("dependencies: auth refuses, sub-dependencies share one user, the session is closed after the response", async () => {
    const denied = await client.get("/me");
    assert.equal(denied.status, 401);
    assert.equal(denied.headers["www-authenticate"], "Bearer");
    const me = (await client.get("/me", { headers: { authorization: "Bearer secret" } })).json();
    assert.deepEqual(me.user, { name: "ada", admin: true });
    assert.equal(me.audit.who, "ada");
    assert.equal(closed.at(-1), me.audit.session);
    assert.equal((await client.get("/admin/stats")).status, 401);
    assert.deepEqual((await client.get("/admin/stats", { headers: { authorization: "Bearer secret" } })).json(), { users: 1 });
  });

  test("an exception handler turns a domain error into a 409", async () => {
    const reply = await client.post("/orders/pen");
    assert.equal(reply.status, 409);
    assert.deepEqual(reply.json(), { detail: "pens are out of stock", path: "/orders/pen" });
    assert.deepEqual((await client.post("/orders/ink")).json(), { ordered: "ink" });
  });
});

describe("examples/render: the queue lane's acceptance", () => {
  const spec = `${fileURLToPath(new URL("../examples/render/main.ts", import.meta.url))}:app`;
  let redis: RedisServer;
  let server: ChildServer;
  let workers: ChildWorker[];
  before(async () => {
    redis = await startRedis();
    [server, ...workers] = await Promise.all([
      spawnServer(spec, ["--redis", redis.url, "--pool-size", "1"]),
      spawnWorker(spec, redis.url, ["--pool-size", "2"]),
      spawnWorker(spec, redis.url, ["--pool-size", "2"]),
    ]);
  });
  after(async () => {
    await Promise.all([server?.stop(), ...(workers ?? []).map((w) => w.stop())]);
    await redis?.stop();
  });

  test("40 concurrent renders are all answered, by both workers and never by the server", async () => {
    const replies = await Promise.all(Array.from({ length: 40 }, () => request(`${server.url}/render?n=150`)));
    assert.deepEqual(
      replies.map((r) => r.status),
      Array(40).fill(200),
    );
    const pids = new Set(replies.map((r) => r.json.pid));
    assert.deepEqual([...pids].sort(), workers.map((w) => w.pid).sort(), "both workers rendered");
    assert.ok(!pids.has(server.child.pid));
    assert.ok(replies.every((r) => r.json.n === 150 && r.json.filled > 0));
  });

  test("stopping a worker with SIGTERM while 40 more are in flight loses none of them", async () => {
    const [stopped, kept] = workers as [ChildWorker, ChildWorker];
    const before = stopped.jobs.length;
    const replies = Promise.all(Array.from({ length: 40 }, () => request(`${server.url}/render?n=500`)));
    await eventually(() => stopped.jobs.length > before, 20_000, "the worker to be busy");
    const exit = stopped.stop("SIGTERM");
    const answers = await replies;
    assert.deepEqual(
      answers.map((r) => r.status),
      Array(40).fill(200),
    );
    assert.equal(await exit, 0);
    assert.ok(answers.some((r) => r.json.pid === kept.pid));
  });

  test("a durable poster job runs on a worker and its state reads back", async () => {
    const queued = await request(`${server.url}/posters`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"n":60}' });
    assert.equal(queued.status, 202);
    let state: any;
    await eventually(
      async () => (state = (await request(`${server.url}/posters/${queued.json.job}`)).json).status === "completed",
      10_000,
      "the poster",
    );
    assert.equal(state.result.pid, workers[1]!.pid);
    assert.equal((await request(`${server.url}/posters/nope`)).status, 404);
  });
});
