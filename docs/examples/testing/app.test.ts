import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import { TestClient } from "loopwise/testing";
import { app, currentUser, database } from "./app.ts";
import { fakeDatabase } from "./fakes.ts";

let client: TestClient;
before(async () => {
  client = await TestClient.start(app);
});
afterEach(() => app.dependencyOverrides.clear());
after(() => client.close());

test("a fixed user instead of the identity service", async () => {
  app.dependencyOverrides.set(currentUser, { value: { name: "test user" } });
  const res = await client.get("/me");
  assert.deepEqual(res.json(), { name: "test user" });
});

test("a fake database, in the worker that runs the route", async () => {
  app.dependencyOverrides.set(currentUser, { value: { name: "test user" } });
  app.dependencyOverrides.set(database, fakeDatabase);
  const res = await client.get("/items");
  assert.match(res.lane, /^worker#\d+$/);
  assert.deepEqual(res.json(), { owner: "test user", items: ["pen", "ink"] });
});

test("cleared, the originals are back: no token, no user", async () => {
  const res = await client.get("/me");
  assert.equal(res.status, 401);
});
