// The apps under docs/examples/, driven through TestClient: what each tutorial page says they do.
import assert from "node:assert/strict";
import { pbkdf2Sync } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { TestClient } from "loopwise/testing";
import { app as pathAndQuery } from "../../docs/examples/path-and-query.ts";
import { app as requestBody } from "../../docs/examples/request-body.ts";
import { app as validation } from "../../docs/examples/validation-errors.ts";
import { app as customValidation } from "../../docs/examples/validation-errors-custom.ts";
import { app as dependencies, journal } from "../../docs/examples/dependencies.ts";
import { app as errors } from "../../docs/examples/errors.ts";
import { app as lanes } from "../../docs/examples/lanes.ts";
import { app as moduleState } from "../../docs/examples/module-state.ts";
// The testing page's own example: its tests run as part of this file.
import "../../docs/examples/hello/main.test.ts";
// The testing page's test database for per-worker connections.
import "../../docs/examples/testing/books.test.ts";
// The WebSockets page's example and its TestClient tests.
import "../../docs/examples/websockets.test.ts";
import "../../docs/examples/forms-and-files.test.ts";
// The typed client page's example and its tests.
import "../../docs/examples/typed-client/shop.test.ts";

/** A TestClient for `app` for the tests of one describe block. */
function clientFor(app: Parameters<typeof TestClient.start>[0], poolSize = 2) {
  const holder: { client: TestClient } = {} as { client: TestClient };
  before(async () => {
    holder.client = await TestClient.start(app, { poolSize });
  });
  after(() => holder.client.close());
  return holder;
}

describe("docs/examples/path-and-query.ts", () => {
  const c = clientFor(pathAndQuery);

  test("query values stay strings without a schema; a schema coerces and fills defaults", async () => {
    assert.deepEqual((await c.client.get("/search", { query: { q: "pen", tag: ["a", "b"] } })).json(), { q: "pen", tag: ["a", "b"] });
    assert.deepEqual((await c.client.get("/search")).json(), {});
    assert.deepEqual((await c.client.get("/items/3")).json(), { id: 3, skip: 0, limit: 10, tag: [] });
    assert.equal((await c.client.get("/items/3", { query: { limit: 0 } })).status, 422);
  });

  test("headers are read by name, cookies by key", async () => {
    const res = await c.client.get("/whoami", { headers: { "user-agent": "curl/8", "x-request-id": "r1" }, cookies: { session: "s1" } });
    assert.deepEqual(res.json(), { agent: "curl/8", requestId: "r1", session: "s1" });
    const missing = await c.client.get("/whoami");
    assert.equal(missing.status, 422);
    assert.deepEqual(missing.json().detail[0].loc, ["header", "user-agent"]);
  });
});

describe("docs/examples/request-body.ts", () => {
  const c = clientFor(requestBody);

  test("bodies are parsed by content type", async () => {
    assert.deepEqual((await c.client.post("/echo", { json: { a: 1 } })).json(), { type: "application/json", body: { a: 1 } });
    const textual = await c.client.post("/echo", { body: "hi", headers: { "content-type": "text/plain" } });
    assert.deepEqual(textual.json(), { type: "text/plain", body: "hi" });
    const binary = await c.client.post("/echo", { body: new Uint8Array([1, 2, 3]), headers: { "content-type": "application/octet-stream" } });
    assert.deepEqual(binary.json(), { type: "application/octet-stream", body: "3 bytes" });
  });

  test("the response schema drops what it does not declare; accepts refuses other types", async () => {
    const created = await c.client.post("/items", { json: { name: "pen", price: 1.5 } });
    assert.equal(created.status, 201);
    assert.deepEqual(created.json(), { name: "pen", price: 1.5, tags: [], id: 1 });
    const refused = await c.client.put("/items/1", { body: "name=pen", headers: { "content-type": "application/x-www-form-urlencoded" } });
    assert.equal(refused.status, 415);
  });
});

describe("docs/examples/validation-errors*.ts", () => {
  const plain = clientFor(validation);
  const custom = clientFor(customValidation);

  test("the default answer is a 422 listing every problem; the custom one a 400 of the app's shape", async () => {
    const body = { email: "ada", age: 17 };
    const standard = await plain.client.post("/signup", { json: body });
    assert.equal(standard.status, 422);
    assert.deepEqual(
      standard.json().detail.map((e: { loc: unknown[] }) => e.loc),
      [
        ["body", "email"],
        ["body", "age"],
      ],
    );
    const own = await custom.client.post("/signup", { json: body });
    assert.equal(own.status, 400);
    assert.equal(own.json().errors.length, 2);
    assert.match(own.json().errors[0], /^body\.email: /);
  });
});

describe("docs/examples/dependencies.ts", () => {
  const c = clientFor(dependencies);
  const auth = { authorization: "Bearer secret" };

  test("a failing dependency answers for the route", async () => {
    const res = await c.client.get("/me");
    assert.equal(res.status, 401);
    assert.equal(res.headers["www-authenticate"], "Bearer");
    assert.deepEqual((await c.client.get("/me", { headers: auth })).json(), { name: "ada", admin: false });
    assert.equal((await c.client.get("/admin/stats", { headers: auth })).status, 403);
  });

  test("the generator commits after a success and rolls back after an error", async () => {
    journal.length = 0;
    assert.deepEqual((await c.client.post("/orders?item=pen", { headers: auth })).json(), { ordered: "pen", by: "ada" });
    assert.equal((await c.client.post("/orders", { headers: auth })).status, 400);
    assert.deepEqual(journal, ["begin for ada", "commit", "begin for ada", "rollback"]);
  });
});

describe("docs/examples/errors.ts", () => {
  const c = clientFor(errors);

  test("HttpError carries its status, detail and headers", async () => {
    const res = await c.client.get("/items/bar");
    assert.equal(res.status, 404);
    assert.deepEqual(res.json(), { detail: "Item not found" });
    assert.equal(res.headers["x-error"], "no such item");
  });

  test("a crash is a bare 500; the error stays on the server", async () => {
    const res = await c.client.get("/broken");
    assert.equal(res.status, 500);
    assert.ok(!res.text.includes("hunter2"));
    assert.match(res.error?.message ?? "", /hunter2/);
  });

  test("the app's handler answers its own error class on the worker that raised it", async () => {
    const res = await c.client.post("/orders/pen");
    assert.equal(res.status, 409);
    assert.deepEqual(res.json(), { detail: "pen is out of stock", path: "/orders/pen" });
    assert.match(res.lane, /^worker#/);
  });
});

describe("docs/examples/lanes.ts", () => {
  // Four workers, so that only the bulkhead can hold reports back.
  const c = clientFor(lanes, 4);

  test("async runs on the main thread, plain on a worker, the lane option wins", async () => {
    for (const [path, mainThread, lane] of [
      ["/where/async", true, /^loop$/],
      ["/where/plain", false, /^worker#/],
      ["/where/forced", true, /^loop$/],
    ] as const) {
      const res = await c.client.get(path);
      assert.deepEqual(res.json(), { mainThread }, path);
      assert.match(res.lane, lane);
    }
  });

  test("offload() runs the registered function on the pool for an async route", async () => {
    const res = await c.client.get("/hash/hunter2");
    assert.equal(res.json().hash, pbkdf2Sync("hunter2", "salt", 100_000, 32, "sha256").toString("hex"));
    assert.equal(res.lane, "loop");
  });

  test("a bulkhead lets its routes run only so many at once", async () => {
    const started = Date.now();
    const reports = await Promise.all(Array.from({ length: 4 }, () => c.client.get("/report")));
    assert.deepEqual(
      reports.map((r) => r.status),
      [200, 200, 200, 200],
    );
    // Four 200 ms reports, two at a time: two rounds.
    assert.ok(Date.now() - started >= 380, `four reports took ${Date.now() - started} ms`);
    const downloads = await Promise.all([c.client.get("/download/csv"), c.client.get("/download/json")]);
    assert.deepEqual(
      downloads.map((r) => r.status),
      [200, 200],
    );
    assert.equal(downloads[0]!.text, "id,name\n");
  });
});

describe("docs/examples/lanes.ts with one worker", () => {
  const c = clientFor(lanes, 1);

  test("a hanging plain handler gets a 504 and its only worker is replaced", async () => {
    const hung = await c.client.get("/hang");
    assert.equal(hung.status, 504);
    assert.deepEqual(hung.json(), { detail: "The handler did not finish within 500 ms" });
    // Served at all only if the pool replaced the worker stuck in the endless loop.
    assert.deepEqual((await c.client.get("/where/plain")).json(), { mainThread: false });
  });
});

describe("docs/examples/module-state.ts", () => {
  const c = clientFor(moduleState, 2);

  test("a module-level :memory: database is one per worker: each sees only the rows its own requests wrote", async () => {
    const writes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => c.client.post("/notes", { body: `note ${i}`, headers: { "content-type": "text/plain" } })),
    );
    const writers = new Map<number, number>();
    for (const res of writes) writers.set(res.json().thread, (writers.get(res.json().thread) ?? 0) + 1);
    // Two workers at least (the pool may grow: sleepSync looks like blocked work).
    assert.ok(writers.size >= 2, "the writes did not spread over the workers");
    const counts = await Promise.all(Array.from({ length: 8 }, () => c.client.get("/notes/count")));
    for (const res of counts) {
      const { thread, n } = res.json();
      // Each worker counts the rows it wrote itself, never all eight.
      assert.equal(n, writers.get(thread) ?? 0, `worker thread ${thread}`);
      assert.ok(n < 8);
    }
  });
});

describe("docs/examples/settings/main.ts", () => {
  test("the example .env's values, the environment over it, the same on a worker", async () => {
    const { readEnvFile } = await import("../../src/params/settings.ts");
    const variables = readEnvFile(new URL("../../docs/examples/settings/example.env", import.meta.url).pathname);
    const set = Object.keys(variables).filter((name) => process.env[name] === undefined);
    Object.assign(process.env, variables, { ITEMS_PER_PAGE: "30" });
    try {
      const { app } = await import("../../docs/examples/settings/main.ts");
      const client = await TestClient.start(app, { poolSize: 1 });
      try {
        const res = await client.get("/info");
        assert.match(res.lane, /^worker#/);
        assert.deepEqual(res.json(), { admin: "admin@shop.example", perPage: 30, debug: true });
      } finally {
        await client.close();
      }
    } finally {
      for (const name of set) delete process.env[name];
    }
  });
});
