import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { TestClient } from "loopwise/testing";
import { app } from "./app.ts";

let client: TestClient;
before(async () => {
  // Any request whose code holds the event loop 50 ms or more fails its test.
  client = await TestClient.start(app, { failOnBlock: 50 });
});
after(() => client.close());

test("signing up hashes on the pool: the loop stays free", async () => {
  const res = await client.post("/signup/ada");
  assert.equal(res.status, 200, `${res.text} ${res.error?.stack ?? ""}`);
  assert.equal(res.json().hash.length, 64);
});

test("the notes are read on a worker", async () => {
  const res = await client.get("/notes");
  assert.match(res.lane, /^worker#\d+$/);
});
