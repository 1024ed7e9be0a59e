// Startup in FastAPI's order: the app's startup hooks finish before any worker runs its
// onWorkerStart; a failing hook is named with the line that registered it.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fixture, request, runCli, spawnServer } from "../helpers.ts";

const freshDb = () => join(mkdtempSync(join(tmpdir(), "loopwise-books-")), "books.db");
const app = `${fixture("startup-order-app.ts")}:app`;

test("tables made in onStartup are there for the statements each worker prepares in onWorkerStart", async () => {
  const server = await spawnServer(app, ["--pool-size", "2"], { BOOKS_DB: freshDb() });
  try {
    const replies = await Promise.all(Array.from({ length: 8 }, () => request(`${server.url}/books/count`)));
    for (const reply of replies) assert.deepEqual([reply.status, reply.json], [200, { n: 1 }]);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("a failing onStartup hook is named with its module and line, and no worker is started", async () => {
  const { code, stderr } = await runCli(["run", app, "--port", "0", "--pool-size", "2"], { BOOKS_DB: freshDb(), FAIL: "startup" });
  assert.equal(code, 1);
  assert.match(stderr, /onStartup hook registered at test\/fixtures\/startup-order-app\.ts:33 failed: Error: the schema migration failed/);
  assert.doesNotMatch(stderr, /worker#/);
});

test("a failing onWorkerStart hook is named with its module and line in the worker's startup error", async () => {
  const { code, stderr } = await runCli(["run", app, "--port", "0", "--pool-size", "1"], { BOOKS_DB: freshDb(), FAIL: "worker-start" });
  assert.equal(code, 1);
  assert.match(
    stderr,
    /worker#1 could not load the app .*: onWorkerStart hook registered at test\/fixtures\/startup-order-app\.ts:38 failed: SqliteError: no such table: no_such_table/,
  );
});
