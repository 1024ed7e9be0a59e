// Faults that take servers down, each answered: stuck handlers, dead workers, floods, starvation.
import assert from "node:assert/strict";
import { Agent } from "node:http";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app, hits } from "../fixtures/reliability-app.ts";
import { captureLogs, delay, request, waitForFullPool } from "../helpers.ts";

describe("reliability", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, {
      port: 0,
      // A fixed pool: these tests are about faults and queueing, growth has tests of its own.
      poolSize: 4,
      maxPoolSize: 4,
      maxQueue: 32,
      logWrite: logs.write,
      workerResourceLimits: { maxOldGenerationSizeMb: 64 },
    });
  });
  after(() => server.close());

  test("a worker-lane handler stuck in a loop gets 504; its worker is terminated and replaced", async () => {
    const started = Date.now();
    const stuck = request(server.url + "/worker/spin");
    // Meanwhile the server answers as usual, on both lanes.
    await delay(50);
    assert.equal((await request(server.url + "/hello")).status, 200);
    assert.equal((await request(server.url + "/worker/hello")).status, 200);
    const reply = await stuck;
    assert.equal(reply.status, 504);
    assert.deepEqual(reply.json, { detail: "The handler did not finish within 300 ms" });
    assert.ok(reply.doneAt - started >= 280 && reply.doneAt - started < 3000);
    await waitForFullPool(server);
    assert.ok(logs.err.some((line) => /worker#\d was terminated because its handler ran past its timeout/.test(line)));
  });

  test("a loop-lane handler past its timeout gets 504 (its work cannot be stopped)", async () => {
    const started = Date.now();
    const reply = await request(server.url + "/loop/stall");
    assert.equal(reply.status, 504);
    assert.ok(reply.doneAt - started < 1200, "the 504 waited for the handler");
  });

  for (const [path, what] of [
    ["/worker/oom", "runs out of memory"],
    ["/worker/uncaught", "throws outside the handler"],
  ]) {
    test(`a handler that ${what} gets a 500 for its request only; the pool heals`, async () => {
      const others = [1, 2, 3].map(() => request(server.url + "/worker/sleep/200"));
      const reply = await request(server.url + path);
      assert.equal(reply.status, 500);
      assert.deepEqual(reply.json, { detail: "The worker running this request died" });
      for (const other of await Promise.all(others)) assert.equal(other.status, 200);
      await waitForFullPool(server);
      assert.equal((await request(server.url + "/worker/hello")).status, 200);
    });
  }

  // The hello latency during a flood is measured by `npm run bench` (the client here shares the loop).
  test("a flood of 2,000 requests at a slow worker route: each gets 200 or 503 at once, none hangs", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 200 });
    const statuses = new Map<number, number>();
    const flood = Array.from(
      { length: 2000 },
      () =>
        new Promise<void>((resolve, reject) => {
          import("node:http").then(({ get }) =>
            get(server.url + "/worker/sleep/20", { agent }, (res) => {
              statuses.set(res.statusCode!, (statuses.get(res.statusCode!) ?? 0) + 1);
              if (res.statusCode === 503) assert.equal(res.headers["retry-after"], "1");
              res.resume().on("end", resolve);
            }).on("error", reject),
          );
        }),
    );
    await delay(200);
    assert.equal((await request(server.url + "/hello")).status, 200);
    await Promise.all(flood);
    agent.destroy();
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, 2000);
    assert.deepEqual([...statuses.keys()].sort(), [200, 503]);
    assert.ok(statuses.get(503)! > 0 && statuses.get(200)! > 0);
    assert.equal(server.pool.queued, 0);
  });

  test("bulkheads: a slow route capped at 2 workers cannot starve another worker route", async () => {
    // Without a cap, ten slow calls fill all 4 workers and the queue: another route waits (a
    // 20 ms one, measured once: a quick route, or one never seen, would go ahead of the sleepers).
    await request(server.url + "/worker/medium");
    const unguarded = Array.from({ length: 10 }, () => request(server.url + "/worker/sleep/600"));
    await delay(100);
    let started = Date.now();
    await request(server.url + "/worker/medium");
    const starved = Date.now() - started;
    await Promise.all(unguarded);
    assert.ok(starved >= 400, `without a bulkhead the other route should have waited, took ${starved} ms`);

    // With the cap, the same load leaves two workers free for everyone else.
    const guarded = Array.from({ length: 10 }, () => request(server.url + "/reports/600"));
    await delay(100);
    started = Date.now();
    await request(server.url + "/worker/medium");
    const served = Date.now() - started;
    const reports = await Promise.all(guarded);
    assert.ok(served < 300, `the other route waited ${served} ms behind the capped route`);
    assert.ok(reports.every((r) => r.status === 200));
  });

  test("a shared bulkhead that is full answers 503 at once", async () => {
    // Limit 1, two may wait: the fourth concurrent call is refused.
    const calls = Array.from({ length: 4 }, () => request(server.url + "/export/300"));
    const replies = await Promise.all(calls);
    assert.deepEqual(replies.map((r) => r.status).sort(), [200, 200, 200, 503]);
  });

  test("4,000 concurrent increments over both lanes end at exactly 4,000", async () => {
    hits.reset();
    // 24 connections: never more worker requests waiting than the queue's 32 places.
    const agent = new Agent({ keepAlive: true, maxSockets: 24 });
    const { request: raw } = await import("node:http");
    const one = (path: string) =>
      new Promise<void>((resolve, reject) =>
        raw(server.url + path, { method: "POST", agent }, (res) => {
          assert.equal(res.statusCode, 200);
          res.resume().on("end", resolve);
        })
          .on("error", reject)
          .end(),
      );
    await Promise.all(Array.from({ length: 4000 }, (_, i) => one(i % 2 === 0 ? "/loop/hit" : "/worker/hit")));
    agent.destroy();
    const totals = (await request(server.url + "/hits")).json;
    assert.equal(totals.hits, 4000);
    assert.equal(totals.loop, 2000);
    assert.equal(totals.worker, 2000);
    // A module global bumped by plain handlers lives once per thread: the main thread never saw one.
    assert.equal(totals.moduleGlobal, 0);
  });
});
