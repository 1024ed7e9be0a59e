// docs/testing.md: the app's per-worker connections pointed at a database of the test's own.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { TestClient } from "loopwise/testing";
import { app } from "./books.ts";

let client: TestClient;
before(async () => {
  // Set before the app starts: its onStartup hook and every worker (which copies the environment
  // when it starts) read it then. A file, not ":memory:", which would be one database per worker.
  process.env.BOOKS_DB = join(mkdtempSync(join(tmpdir(), "books-")), "test.db");
  client = await TestClient.start(app, { poolSize: 2 });
});
after(() => client.close());

test("every worker writes to and reads from the test's database", async () => {
  const created = await Promise.all(["Dune", "Emma", "Ulysses"].map((title) => client.post("/books", { json: { title } })));
  assert.deepEqual(
    created.map((res) => res.status),
    [201, 201, 201],
  );
  const counts = await Promise.all(Array.from({ length: 6 }, () => client.get("/books/count")));
  for (const res of counts) assert.deepEqual(res.json(), { n: 3 });
});
