// Background tasks: declared by a handler or a dependency, run after the response by the lane
// rule on both lanes, failures (of every odd kind) kept to the task. Through the TestClient,
// which runs a request's tasks before it returns, as FastAPI's does.
import assert from "node:assert/strict";
import { threadId } from "node:worker_threads";
import { after, before, describe, test } from "node:test";
import { App, backgroundTasks, depends } from "loopwise";
import { TestClient } from "loopwise/testing";
import { app, pooled, ran } from "../fixtures/background-app.ts";

let client: TestClient;
before(async () => {
  client = await TestClient.start(app, { poolSize: 2 });
});
after(() => client.close());

describe("running", () => {
  test("an async task runs on the loop, a plain one on the pool, in the order added", async () => {
    const res = await client.post("/loop");
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.background.map((b) => [b.task, b.lane.replace(/#\d+$/, "#N")]),
      [
        ["record", "loop"],
        ["onPool", "worker#N"],
        ["closure", "loop"],
      ],
    );
    assert.deepEqual(ran.slice(-2), [`loop@${threadId}`, "closure"]);
    assert.equal(pooled.get(1), 7);
  });

  test("tasks added by a worker-lane handler come back with its response and run by the same rule", async () => {
    const res = await client.post("/worker");
    assert.match(res.lane, /^worker#/);
    assert.notEqual(res.json().thread, threadId);
    assert.deepEqual(
      res.background.map((b) => [b.task, b.lane === "loop" ? "loop" : "pool"]),
      [
        ["record", "loop"],
        ["onPool", "pool"],
      ],
    );
    // The async task ran here, on the main thread, not in the worker that added it.
    assert.equal(ran.at(-1), `worker@${threadId}`);
    assert.equal(pooled.get(1), 9);
  });

  test("a dependency and the handler share the request's tasks", async () => {
    const res = await client.post("/shared");
    assert.deepEqual(res.json(), { same: true });
    assert.deepEqual(
      res.background.map((b) => b.task),
      ["record"],
    );
  });

  test("a handler that fails discards its tasks", async () => {
    const before = ran.length;
    const res = await client.post("/refused");
    assert.equal(res.status, 409);
    assert.deepEqual(res.background, []);
    assert.equal(ran.length, before);
  });
});

describe("failures stay with the task", () => {
  test("a task that throws, one that throws on the pool, one that kills its worker: the next still runs", async () => {
    const res = await client.post("/fails");
    assert.equal(res.status, 200);
    const [fails, failsOnPool, killsWorker, record] = res.background;
    assert.deepEqual([fails!.lane, fails!.error?.message], ["loop", "task broke"]);
    assert.match(failsOnPool!.lane, /^worker#\d+$/);
    assert.deepEqual([failsOnPool!.error?.name, failsOnPool!.error?.message], ["TypeError", "pool task broke"]);
    assert.equal(killsWorker!.error?.name, "WorkerCrashedError");
    assert.deepEqual([record!.task, record!.error], ["record", undefined]);
    assert.equal(ran.at(-1), `after-failures@${threadId}`);
    // The pool replaced the worker: plain tasks still run.
    assert.equal((await client.post("/worker")).background[1]!.error, undefined);
  });

  test("values that are not Errors, even a Proxy whose traps throw, are reported, never thrown on", async () => {
    for (const kind of ["undefined", "symbol", "null-prototype", "proxy", "rejected-null"]) {
      const res = await client.post(`/odd/${kind}`);
      assert.equal(res.status, 200, kind);
      const error = res.background[0]!.error;
      assert.ok(error, kind);
      assert.equal(typeof error.message, "string");
    }
  });
});

describe("what cannot run is refused when it is added, with the reason", () => {
  test("an unregistered task added on a worker: a 500 saying to register it", async () => {
    const res = await client.post("/worker/unregistered");
    assert.equal(res.status, 500);
    assert.match(res.error!.message, /background task unregistered: it was added on a worker.*register it with backgroundFunction\(unregistered\)/);
  });

  test("an unregistered plain function: it would run on the pool, which cannot find it", async () => {
    const res = await client.post("/loop/unregistered-plain");
    assert.equal(res.status, 500);
    assert.match(res.error!.message, /plainClosure: it is a plain function, so it runs on the worker pool/);
  });

  test("arguments that cannot be copied, and something that is not a function", async () => {
    const uncloneable = await client.post("/worker/uncloneable");
    assert.equal(uncloneable.status, 500);
    assert.match(uncloneable.error!.message, /background task record: .* its arguments cannot be copied there/);
    const notAFunction = await client.post("/not-a-function");
    assert.equal(notAFunction.status, 500);
    assert.match(notAFunction.error!.message, /tasks.add\(\) takes a function, got 42/);
  });

  test("a plain dependency that adds tasks cannot serve a loop-lane route", () => {
    const other = new App();
    const plain = depends({ deps: { tasks: backgroundTasks } }, function auditPlain() {});
    assert.throws(() => other.get("/x", { dependencies: [plain] }, async () => "x"), /auditPlain is a plain function that adds background tasks/);
    // On a worker-lane route it runs in the worker, beside the handler: fine.
    other.get("/y", { dependencies: [plain] }, () => "y");
  });
});
