// The worker lane over real sockets: a flood is answered in bounded time, the pool's growth and
// shrinking show in the log, on /metrics and in the live page's feed.
import assert from "node:assert/strict";
import { Agent, get } from "node:http";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app } from "../fixtures/elastic-app.ts";
import { captureLogs, delay, request } from "../helpers.ts";

describe("a flood at a CPU-bound route (a pool of 2)", () => {
  let server: RunningServer;
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, maxQueueWait: 2000, accessLog: false, logWrite: () => {} });
  });
  after(() => server.close());

  test("2,000 concurrent requests at a 300 ms route: each answered 200 or 503 within the bound; fresh ones served at once after", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 2000 });
    const started = performance.now();
    const answers = await Promise.all(
      Array.from(
        { length: 2000 },
        () =>
          new Promise<{ status: number; ms: number; retryAfter: string | undefined }>((resolve, reject) => {
            get(`${server.url}/burn/300`, { agent }, (res) => {
              res
                .resume()
                .on("end", () => resolve({ status: res.statusCode!, ms: performance.now() - started, retryAfter: res.headers["retry-after"] }));
            }).on("error", reject);
          }),
      ),
    );
    agent.destroy();
    const statuses = new Set(answers.map((a) => a.status));
    assert.deepEqual([...statuses].sort(), [200, 503]);
    // A 2 s wait limit: nobody waits past it (plus a run of about 300–600 ms on two busy cores).
    // The bound is loose for a shared machine: what it rules out is a request kept for its route's
    // whole timeout, or one never answered.
    const slowest = Math.max(...answers.map((a) => a.ms));
    assert.ok(slowest < 15_000, `the last answer took ${Math.round(slowest)} ms`);
    assert.ok(answers.filter((a) => a.status === 503).every((a) => Number(a.retryAfter) >= 1));
    assert.ok(answers.filter((a) => a.status === 200).length >= 4, "work still got done");
    // Once the flood is over, a fresh request meets no backlog.
    for (let i = 0; i < 3; i++) {
      const sent = performance.now();
      assert.equal((await request(`${server.url}/burn/300`)).status, 200);
      const took = performance.now() - sent;
      assert.ok(took < 1500, `a fresh request took ${Math.round(took)} ms`);
    }
    assert.equal(server.pool.queued, 0);
  });
});

describe("the pool's size in the log, on /metrics and in the live feed", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, {
      port: 0,
      poolSize: 2,
      maxPoolSize: 8,
      workerIdleTimeout: 300,
      metrics: true,
      dev: true,
      accessLog: false,
      logWrite: logs.write,
    });
  });
  after(() => server.close());

  const gauge = async (name: string) => Number((await request(`${server.url}/metrics`)).text.match(new RegExp(`^${name} (\\d+)`, "m"))?.[1]);

  test("blocked workers: the pool grows, says why, and shrinks back after idle", async () => {
    assert.equal(await gauge("loopwise_pool_workers"), 2);
    assert.equal(await gauge("loopwise_pool_max_workers"), 8);
    const sleepers = Array.from({ length: 8 }, () => request(`${server.url}/sleep/1000`));
    await delay(600);
    assert.ok((await gauge("loopwise_pool_workers")) > 2, "the gauge shows the growth");
    const feed = await liveSample(server.url, (sample) => sample.workers > 2);
    assert.ok(feed.workers > 2, `the live feed's sample: ${JSON.stringify(feed)}`);
    for (const reply of await Promise.all(sleepers)) assert.equal(reply.status, 200);
    const grew = logs.err.find((line) => line.includes("Worker pool grew from 2 to"));
    assert.match(
      grew ?? "",
      /Worker pool grew from 2 to \d: \d+ tasks waiting while the busy workers were blocked \(process CPU \d+% of \d+ cores?\)/,
    );
    for (let i = 0; i < 60 && server.pool.size > 2; i++) await delay(50);
    assert.equal(await gauge("loopwise_pool_workers"), 2);
    await delay(400);
    assert.ok(
      logs.err.some((line) => /Worker pool shrank from \d to 2: \d workers? idle for 0.3 s/.test(line)),
      logs.err.join("\n"),
    );
    assert.ok(!logs.err.some((line) => /died|could not start/.test(line)), "retiring is no failure");
  });
});

describe("a pool at its max, every worker held by a sleeper (a pool of 2)", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, maxPoolSize: 2, accessLog: false, logWrite: logs.write });
  });
  after(() => server.close());

  test("a quick route is answered by a worker of its own, not after the sleepers, and the log says why", async () => {
    for (let i = 0; i < 3; i++) assert.equal((await request(`${server.url}/hello`)).status, 200);
    const sleepers = Array.from({ length: 2 }, () => request(`${server.url}/sleep/1500`));
    await delay(100);
    const hello = await request(`${server.url}/hello`);
    assert.equal(hello.status, 200);
    const slept = await Promise.all(sleepers);
    for (const reply of slept) assert.equal(reply.status, 200);
    // An ordering, not a time: the hello is answered while both sleepers still hold their workers.
    assert.ok(hello.doneAt < Math.min(...slept.map((reply) => reply.doneAt)), "the hello waited for a sleeper");
    assert.ok(
      logs.err.some((line) =>
        line.includes("Worker pool grew from 2 to 3: worker#3 takes only quick tasks, which waited while every worker held slower work"),
      ),
      logs.err.join("\n"),
    );
  });
});

/** The newest pool sample the live page's event stream sends. */
/** The live feed's first sample that shows what is `wanted`, or the last one seen within `withinMs` (a sample may predate the growth). */
function liveSample(url: string, wanted: (sample: { workers: number }) => boolean, withinMs = 3000): Promise<{ workers: number }> {
  return new Promise((resolve, reject) => {
    let last: { workers: number } | undefined;
    const finish = () => {
      clearTimeout(timer);
      req.destroy();
      resolve(last ?? { workers: 0 });
    };
    const timer = setTimeout(finish, withinMs);
    const req = get(`${url}/_loopwise/events`, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => {
        text += chunk.toString("utf8");
        const samples = [...text.matchAll(/^data: (.*"type":"sample".*)$/gm)].map((m) => JSON.parse(m[1]!));
        last = samples.at(-1) ?? last;
        if (last && wanted(last)) finish();
      });
    }).on("error", reject);
  });
}
