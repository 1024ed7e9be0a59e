// Dependency overrides: a dependency replaced by a value, by another dependency (with dependencies
// of its own that no route declared) or by a function, on both lanes and in workers that import
// the app on their own; cleared or deleted, the original again; every wrong shape refused with a
// reason, leaving what was in force. With the TestClient, a served app and `loopwise run`.
import assert from "node:assert/strict";
import { threadId } from "node:worker_threads";
import { after, afterEach, before, describe, test } from "node:test";
import { App, depends, serve } from "loopwise";
import { TestClient } from "loopwise/testing";
import { app, currentUser, database, featureFlag, settings } from "../fixtures/overrides-app.ts";
import { fakeDatabase, fakeSettings, fakeUser } from "../fixtures/overrides-fakes.ts";
import { captureLogs, fixture, internalRoute, request, spawnServer, waitForFullPool } from "../helpers.ts";

const real = { headers: { authorization: "Bearer real" } };

describe("with the TestClient", () => {
  let client: TestClient;
  before(async () => {
    client = await TestClient.start(app, { poolSize: 2 });
  });
  afterEach(() => app.dependencyOverrides.clear());
  after(() => client.close());

  const both = async (path: string, init = {}) => {
    const [loop, worker] = await Promise.all([client.get(`/loop${path}`, init), client.get(`/worker${path}`, init)]);
    assert.equal(loop.lane, "loop");
    assert.match(worker.lane, /^worker#/);
    return [loop, worker] as const;
  };

  test("a fixed value replaces a dependency on both lanes", async () => {
    for (const res of await both("/me")) assert.equal(res.status, 401);
    app.dependencyOverrides.set(currentUser, { value: { name: "test user" } });
    for (const res of await both("/me")) assert.deepEqual(res.json().user, { name: "test user" });
  });

  test("a dependency from a module of its own, also where the original is a sub-dependency", async () => {
    app.dependencyOverrides.set(currentUser, fakeUser).set(settings, fakeSettings);
    for (const res of await both("/greeting")) assert.deepEqual(res.json(), { greeting: "hi, fake user" });
  });

  test("a replacement with dependencies no route declared, run on the pool for a loop-lane route", async () => {
    app.dependencyOverrides.set(database, fakeDatabase);
    const [loop, worker] = await both("/db");
    assert.equal(loop.json().db.kind, "fake database in test");
    assert.notEqual(loop.json().db.thread, threadId, "a plain replacement still runs on the pool");
    assert.equal(loop.json().db.greeting, "hello");
    assert.deepEqual(worker.json().db.thread, worker.json().thread, "inside the handler's worker");
  });

  test("delete() restores one original, clear() all of them", async () => {
    app.dependencyOverrides.set(currentUser, { value: { name: "a" } }).set(settings, { value: { greeting: "yo" } });
    assert.equal(app.dependencyOverrides.size, 2);
    assert.equal(app.dependencyOverrides.delete(currentUser), true);
    assert.equal(app.dependencyOverrides.delete(currentUser), false);
    for (const res of await both("/greeting", real)) assert.deepEqual(res.json(), { greeting: "yo, real user" });
    app.dependencyOverrides.clear();
    for (const res of await both("/greeting", real)) assert.deepEqual(res.json(), { greeting: "hello, real user" });
    for (const res of await both("/me")) assert.equal(res.status, 401);
  });

  test("a worker started after the override (replacing one that died) applies it too", async () => {
    app.dependencyOverrides.set(currentUser, { value: { name: "survivor" } });
    assert.equal((await client.get("/worker/crash")).status, 500);
    for (let i = 0; i < 4; i++) assert.deepEqual((await client.get("/worker/me")).json().user, { name: "survivor" });
  });

  test("a function made in the test file will do where only the loop runs it", async () => {
    app.dependencyOverrides.set(featureFlag, async () => "on");
    assert.deepEqual((await client.get("/loop/flag")).json(), { flag: "on" });
  });

  describe("wrong shapes are refused with the reason, and what was in force stays", () => {
    const stillKept = async () => {
      for (const res of await both("/me")) assert.deepEqual(res.json().user, { name: "kept" });
    };

    test("something that is not a dependency, or not a replacement", async () => {
      app.dependencyOverrides.set(currentUser, { value: { name: "kept" } });
      assert.throws(() => app.dependencyOverrides.set({} as never, fakeUser), /first argument must be a dependency made with depends\(\), got \{\}/);
      assert.throws(() => app.dependencyOverrides.set(undefined as never, fakeUser), /got undefined/);
      for (const bad of [null, 42, "user", [], {}, { val: 1 }]) {
        assert.throws(
          () => app.dependencyOverrides.set(currentUser, bad as never),
          /replacement must be a dependency made with depends\(\), a function, or \{ value \}/,
        );
      }
      await stillKept();
    });

    test("a function made in the test file where a worker would need it", async () => {
      app.dependencyOverrides.set(currentUser, { value: { name: "kept" } });
      assert.throws(
        () => app.dependencyOverrides.set(currentUser, async () => ({ name: "closure" })),
        /runs currentUser \(override\) in a worker, which would have to import .*overrides\.test\.ts.*that is the test file itself/s,
      );
      const inline = depends(async () => ({ name: "inline" }));
      assert.throws(() => app.dependencyOverrides.set(currentUser, inline), /that is the test file itself/);
      await stillKept();
    });

    test("a value the workers cannot copy, a cycle, a plain generator for a loop-lane route", async () => {
      app.dependencyOverrides.set(currentUser, { value: { name: "kept" } });
      assert.throws(
        () => app.dependencyOverrides.set(currentUser, { value: { name: () => "x" } as never }),
        /value .* cannot be copied to the workers/,
      );
      assert.throws(() => app.dependencyOverrides.set(settings, { value: { greeting: Symbol("x") } as never }), /cannot be copied to the workers/);
      const wraps = depends({ deps: { currentUser } }, async function wraps(_req, { currentUser }) {
        return currentUser;
      });
      assert.throws(() => app.dependencyOverrides.set(currentUser, wraps), /dependency cycle through currentUser/);
      const generator = depends(function* plainGenerator() {
        yield "x";
      });
      assert.throws(() => app.dependencyOverrides.set(featureFlag, generator), /plainGenerator is a plain generator/);
      await stillKept();
    });
  });
});

test("an override set before the routes are registered applies to them", async () => {
  const early = new App();
  const name = depends(async function name() {
    return "original";
  });
  early.dependencyOverrides.set(name, { value: "replaced" });
  early.get("/name", { deps: { name } }, async (_req, { name }) => ({ name }));
  const route = internalRoute(early.routes[0]);
  assert.equal(route.steps[0]!.run.name, "name (overridden with a value)");
  assert.equal(route.plan[0], name);
});

test("a served app: overrides set while it runs reach its workers", async () => {
  const server = await serve(app, { port: 0, poolSize: 2, logWrite: captureLogs().write });
  try {
    assert.equal((await request(`${server.url}/worker/me`)).status, 401);
    app.dependencyOverrides.set(currentUser, fakeUser);
    for (let i = 0; i < 4; i++) assert.deepEqual((await request(`${server.url}/worker/me`)).json.user, { name: "fake user" });
    app.dependencyOverrides.clear();
    assert.equal((await request(`${server.url}/worker/me`)).status, 401);
    await waitForFullPool(server);
  } finally {
    await server.close();
    app.dependencyOverrides.clear();
  }
});

test("loopwise run: an override made by the served module at its top level, for local development", async () => {
  const server = await spawnServer(`${fixture("overrides-dev.ts")}:app`, ["--pool-size", "2"], { FAKE_USER: "1" });
  try {
    for (const path of ["/loop/me", "/worker/me", "/worker/me"]) {
      assert.deepEqual((await request(server.url + path)).json.user, { name: "fake user" }, path);
    }
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
