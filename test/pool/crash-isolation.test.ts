// A worker that dies takes nothing with it that had finished, runs nothing twice, and the pool
// always comes back: crashes mid-batch, errors left behind, crash loops, replacements that cannot start.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app, runs } from "../fixtures/crash-app.ts";
import { captureLogs, delay, fixture, request, spawnServer, waitForFullPool } from "../helpers.ts";

const dbDownFlag = join(tmpdir(), `loopwise-db-down-${process.pid}`);
process.env.LOOPWISE_TEST_DB_DOWN = dbDownFlag;

describe("crash isolation (a pool of 1)", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 1, maxPoolSize: 1, logWrite: logs.write, probes: true });
  });
  after(() => server.close());

  test("one task of a batch exits its worker: the other 39 answer 200, each ran once, the killer once", async () => {
    // Teach the pool that the route is trivial, so concurrent calls share one worker's batch.
    for (let i = 0; i < 24; i++) assert.equal((await request(`${server.url}/trivial/63`)).status, 200);
    for (let n = 0; n < 40; n++) runs.set(n, 0);
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, n) => request(`${server.url}/trivial/${n}${n === 20 ? "?exit=1" : ""}`, { keepAlive: true })),
    );
    const statuses = replies.map((r) => r.status);
    assert.equal(statuses[20], 500);
    assert.equal(replies[20]!.json.detail, "The worker running this request died");
    assert.deepEqual(statuses.filter((s) => s === 200).length, 39, `statuses: ${statuses}`);
    for (let n = 0; n < 40; n++) assert.equal(runs.get(n), 1, `request ${n} ran ${runs.get(n)} times`);
    await waitForFullPool(server);
  });

  test("an error left behind by one request kills the worker: the request running there is told so, not blamed", async () => {
    assert.equal((await request(`${server.url}/leave-a-bomb`)).status, 200);
    const reply = await request(`${server.url}/innocent`);
    assert.equal(reply.status, 500);
    assert.equal(reply.json.detail, "The worker running this request died");
    await delay(50);
    const exit = logs.err.find((line) => line.includes("left behind by earlier work"));
    assert.ok(exit, "the crash is logged as the worker's");
    assert.match(exit!, /thrown by a timer an earlier request left behind/);
    assert.match(exit!, /was not its fault/);
    await waitForFullPool(server);
    assert.equal((await request(`${server.url}/innocent`)).status, 200, "the route is not held against it");
  });

  test("a route that kills its worker every time is refused for a while; other routes keep their worker", async () => {
    assert.equal((await request(`${server.url}/always-exit`)).status, 500);
    await waitForFullPool(server);
    assert.equal((await request(`${server.url}/always-exit`)).status, 500);
    await waitForFullPool(server);
    const refused = await request(`${server.url}/always-exit`);
    assert.equal(refused.status, 503);
    assert.match(refused.json.detail, /crashed its worker 2 times in a row/);
    assert.ok(Number(refused.headers["retry-after"]) >= 1);
    assert.equal((await request(`${server.url}/worker/hello`)).status, 200);
  });

  test("input that cannot be copied to a worker fails its own request; the pool carries on", async () => {
    const reply = await request(`${server.url}/offload-deep/20000`);
    assert.equal(reply.status, 500);
    await delay(50); // log lines are written once per tick
    const at = logs.err.findIndex((line) => line.includes("Exception in GET /offload-deep/20000"));
    assert.ok(at >= 0, "the log names the route");
    assert.match(logs.err[at + 1]!, /could not be copied to a worker/);
    assert.deepEqual((await request(`${server.url}/offload-deep/10`)).json, { levels: 11 });
    assert.equal((await request(`${server.url}/worker/hello`)).status, 200);
  });

  test("a route's timeout counts its wait at the bulkhead", async () => {
    const started = Date.now();
    // concurrency 1, timeout 500: the first runs 400 ms; the others cannot finish in time.
    const replies = await Promise.all([0, 1, 2].map(() => request(`${server.url}/guarded/400`)));
    const took = Date.now() - started;
    assert.deepEqual(replies.map((r) => r.status).sort(), [200, 504, 504]);
    assert.ok(took < 1500, `the last answer came after ${took} ms`);
    await waitForFullPool(server);
  });

  test("replacements that cannot start are retried with backoff forever; meanwhile 503 at once; then it comes back", async () => {
    writeFileSync(dbDownFlag, "down");
    try {
      assert.equal((await request(`${server.url}/trivial/62?exit=1`)).status, 500);
      // The replacement's start hook fails: the lane answers 503 at once instead of hanging.
      for (let i = 0; i < 100 && server.pool.available; i++) await delay(20);
      const started = Date.now();
      const refused = await request(`${server.url}/worker/hello`);
      assert.equal(refused.status, 503);
      // At once: not after the 5 s wait limit, which is what a request waiting for a worker would meet.
      const took = Date.now() - started;
      assert.ok(took < 2500, `refused after ${took} ms`);
      assert.ok(Number(refused.headers["retry-after"]) >= 1);
      for (let i = 0; i < 100 && logs.err.filter((l) => l.includes("could not start")).length < 3; i++) await delay(50);
      assert.ok(logs.err.filter((l) => l.includes("could not start")).length >= 3, "each try is logged");
      // Readiness says so, for a load balancer to send the traffic elsewhere; liveness does not (a restart would not help).
      const ready = await request(`${server.url}/readyz`);
      assert.deepEqual([ready.status, ready.json.reasons], [503, ["no worker thread is running: worker-lane requests would get 503"]]);
      assert.equal((await request(`${server.url}/livez`)).status, 200);
    } finally {
      rmSync(dbDownFlag, { force: true });
    }
    await waitForFullPool(server);
    assert.equal((await request(`${server.url}/worker/hello`)).status, 200);
    assert.equal((await request(`${server.url}/readyz`)).status, 200);
  });
});

test("--worker-memory caps each worker's heap: a runaway handler dies alone and gets a 500", async () => {
  const server = await spawnServer(`${fixture("crash-app.ts")}:app`, ["--worker-memory", "64", "--pool-size", "1"]);
  try {
    const reply = await request(`${server.url}/memory-hog`);
    assert.equal(reply.status, 500);
    for (let i = 0; i < 100; i++) {
      if ((await request(`${server.url}/worker/hello`)).status === 200) break;
      await delay(50);
    }
    assert.equal((await request(`${server.url}/worker/hello`)).status, 200);
  } finally {
    await server.stop();
  }
});
