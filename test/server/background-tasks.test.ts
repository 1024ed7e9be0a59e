// Background tasks on a real server: the response goes out before the task ends, failures are
// logged with their route and counted in /metrics, and shutdown drains the tasks within the grace
// period (and ends anyway when a task hangs), on both lanes, by close() and by SIGTERM.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { request as httpRequest } from "node:http";
import { app, finishedAt, pooled, ran } from "../fixtures/background-app.ts";
import { captureLogs, delay, fixture, request, spawnServer, until } from "../helpers.ts";

const post = (url: string) => request(url, { method: "POST" });

let metricsText = "";

describe("a served app", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, metrics: true, logWrite: logs.write });
  });
  after(() => server.close());

  test("the response arrives before its task ends", async () => {
    const count = finishedAt.length;
    const reply = await post(`${server.url}/slow?ms=1500`);
    assert.equal(reply.status, 200);
    assert.equal(finishedAt.length, count, "the task had not finished when the response arrived");
    await until(() => finishedAt.length === count + 1, "every task finished", 10_000);
    assert.ok(finishedAt.at(-1)! >= reply.doneAt);
  });

  test("a failing task is logged with its route, task and lane, and the ones after it run", async () => {
    assert.equal((await post(`${server.url}/fails`)).status, 200);
    await until(() => logs.err.some((l) => l.includes("background task killsWorker")), "the crash in the log", 10_000);
    const lines = logs.err.filter((l) => l.includes("Exception in background task"));
    assert.ok(lines.some((l) => l.includes("Exception in background task fails of POST /fails (lane=loop)")));
    assert.ok(lines.some((l) => /background task failsOnPool of POST \/fails \(lane=worker#\d+\)/.test(l)));
    await post(`${server.url}/odd/proxy`);
    await until(() => logs.err.some((l) => l.includes("background task throwsOdd of POST /odd/:kind")), "the odd throw in the log", 10_000);
  });

  test("a client that leaves before the answer: the handler finished, so its tasks still run", async () => {
    const req = httpRequest(`${server.url}/slow-answer`, { method: "POST", agent: false });
    req.on("error", () => {});
    req.end();
    await delay(100);
    req.destroy();
    await until(() => ran.some((r) => r.startsWith("client-left@")), "the task of the request whose client left");
  });

  test("a flood of requests with tasks on both lanes: every task runs or is refused, none is left pending", async () => {
    const refusedOnPool = (text: string) =>
      [...text.matchAll(/^loopwise_background_tasks_total\{[^}]*task="onPool"[^}]*outcome="refused"\} (\d+)/gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
    const before = { ran: pooled.get(0), refused: refusedOnPool((await request(`${server.url}/metrics`)).text) };
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => post(`${server.url}/${i % 2 ? "loop" : "worker"}`)));
    // On a busy machine the pool may shed some worker-lane requests: a 503 adds no task.
    assert.deepEqual(
      [...new Set(replies.map((r) => r.status))].filter((s) => s !== 200 && s !== 503),
      [],
    );
    const answered = replies.filter((r) => r.status === 200).length;
    assert.ok(answered >= 100, "every loop-lane request is answered");
    await until(
      async () => {
        metricsText = (await request(`${server.url}/metrics`)).text;
        return /loopwise_background_tasks_pending 0/.test(metricsText);
      },
      "no background task pending",
      30_000,
    );
    // Each answered request added one pool task: it ran, or the busy pool refused it (and said so).
    assert.equal(pooled.get(0) - before.ran + refusedOnPool(metricsText) - before.refused, answered);
  });

  test("/metrics counts tasks by route, task, lane and outcome, and shows the pending ones", async () => {
    await post(`${server.url}/loop`);
    await delay(100);
    const metrics = (await request(`${server.url}/metrics`)).text;
    assert.match(metrics, /loopwise_background_tasks_total\{route="\/fails",task="fails",lane="loop",outcome="error"\} 1/);
    assert.match(metrics, /loopwise_background_tasks_total\{route="\/loop",task="onPool",lane="worker",outcome="ok"\} \d+/);
    assert.match(metrics, /loopwise_background_task_duration_seconds_count\{task="record",lane="loop"\} \d+/);
    assert.match(metrics, /loopwise_background_tasks_pending 0/);
  });
});

test("a flood past the pool's limits: plain tasks are refused like requests, in one warning line each, and counted", async () => {
  const logs = captureLogs();
  const server = await serve(app, { port: 0, poolSize: 1, maxPoolSize: 1, maxQueue: 4, metrics: true, logWrite: logs.write });
  try {
    const replies = await Promise.all(Array.from({ length: 30 }, () => post(`${server.url}/slow-pool-from-loop?ms=100`)));
    assert.ok(
      replies.every((r) => r.status === 200),
      "the requests themselves are answered",
    );
    await until(
      () => logs.err.some((l) => l.includes("Background task slowOnPool of POST /slow-pool-from-loop was refused by the worker pool")),
      "the refusal in the log",
      10_000,
    );
    const refused = logs.err.filter((l) => l.includes("was refused by the worker pool"));
    assert.ok(refused.every((l) => l.includes(" WARNING ")));
    assert.ok(!logs.err.some((l) => l.includes("PoolFullError") && l.includes("at ")), "no stack for a refusal");
    await until(
      async () => {
        metricsText = (await request(`${server.url}/metrics`)).text;
        return /loopwise_background_tasks_pending 0/.test(metricsText);
      },
      "no background task pending",
      15_000,
    );
    assert.match(
      metricsText,
      /loopwise_background_tasks_total\{route="\/slow-pool-from-loop",task="slowOnPool",lane="worker",outcome="refused"\} \d+/,
    );
    assert.equal((await request(`${server.url}/ran`)).status, 200);
  } finally {
    await server.close();
  }
});

describe("shutdown", () => {
  test("close() waits for the tasks still to run on both lanes, then resolves true", async () => {
    const logs = captureLogs();
    const server = await serve(app, { port: 0, poolSize: 1, logWrite: logs.write });
    const loopDone = finishedAt.length;
    const poolDone = pooled.get(2);
    assert.equal((await post(`${server.url}/slow?ms=500`)).status, 200);
    assert.equal((await post(`${server.url}/slow-pool?ms=500`)).status, 200);
    assert.equal(await server.close(), true);
    assert.equal(finishedAt.length, loopDone + 1);
    assert.equal(pooled.get(2), poolDone + 1);
    assert.ok(logs.err.some((l) => l.includes("Waiting for 2 background tasks to finish.")));
  });

  test("a task that hangs, on the loop or on the pool, cannot hold shutdown past the grace period", async () => {
    const logs = captureLogs();
    const server = await serve(app, { port: 0, poolSize: 1, gracePeriod: 600, logWrite: logs.write });
    await post(`${server.url}/hangs`);
    await post(`${server.url}/spins`);
    const started = Date.now();
    assert.equal(await server.close(), false);
    assert.ok(Date.now() - started < 5000, `shutdown took ${Date.now() - started} ms`);
    const abandoned = logs.err.find((l) => l.includes("Grace period of 600 ms is over with 2 background task(s) not finished; abandoning them:"));
    assert.ok(abandoned, logs.err.join("\n"));
    // Each abandoned task is named, with the route that added it.
    assert.match(abandoned, /hangs of POST \/hangs \(running\)/);
    assert.match(abandoned, /spins of POST \/spins \(running\)/);
  });
});

describe("SIGTERM with loopwise run", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "loopwise-background-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("finishes the tasks after the last response, on both lanes, then exits 0", async () => {
    const log = join(dir, "done.log");
    const server = await spawnServer(`${fixture("background-shutdown-app.ts")}:app`, ["--pool-size", "1"], { BACKGROUND_LOG: log });
    assert.equal((await post(`${server.url}/later/400`)).status, 200);
    assert.equal(await server.stop("SIGTERM"), 0);
    assert.deepEqual(readFileSync(log, "utf8").split("\n").filter(Boolean).sort(), ["loop 400", "pool 400"]);
    const messages = server.stderr.map((line) => JSON.parse(line).msg as string);
    assert.ok(messages.includes("Waiting for 2 background tasks to finish."), messages.join("\n"));
  });

  test("a task that never ends: the process still exits, with 1, when the grace period is over", async () => {
    const server = await spawnServer(`${fixture("background-shutdown-app.ts")}:app`, ["--pool-size", "1", "--grace-period", "500"]);
    assert.equal((await post(`${server.url}/never`)).status, 200);
    const started = Date.now();
    assert.equal(await server.stop("SIGTERM"), 1);
    assert.ok(Date.now() - started < 5000, `exit took ${Date.now() - started} ms`);
  });
});
