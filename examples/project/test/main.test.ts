// The app in process, with its worker pool: no port. `npm test` runs it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { TestClient } from "loopwise/testing";
import { app } from "../main.ts";

let client: TestClient;
before(async () => {
  client = await TestClient.start(app);
});
after(() => client.close());

test("the root says hello, on the event loop", async () => {
  const res = await client.get("/");
  assert.equal(res.status, 200);
  assert.deepEqual(res.json(), { message: "Hello World" });
  assert.equal(res.lane, "loop");
});

test("hashing runs on a worker thread", async () => {
  const res = await client.get("/hash/hello");
  assert.equal(res.json().hash.length, 64);
  assert.match(res.lane, /^worker#\d+$/);
});

test("an invalid body is a 422 that names the field", async () => {
  assert.equal((await client.post("/items", { json: { name: "pen", price: 2 } })).status, 201);
  const res = await client.post("/items", { json: { name: "pen", price: -1 } });
  assert.equal(res.status, 422);
  assert.deepEqual(res.json().detail[0].loc, ["body", "price"]);
});
