// The queue lane end to end: a real Redis, the server and two `loopwise worker` processes.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TestClient } from "loopwise/testing";
import { app } from "../fixtures/queue-app.ts";
import { fixture, request, spawnServer, type ChildServer } from "../helpers.ts";
import { eventually, spawnWorker, startRedis, type ChildWorker, type RedisServer } from "../redis.ts";

const spec = `${fixture("queue-app.ts")}:app`;

describe("the queue lane with two worker processes", () => {
  let redis: RedisServer;
  let server: ChildServer;
  let workers: ChildWorker[];
  let dir: string;
  const runs = () => readFileSync(join(dir, "runs.log"), "utf8");

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "loopwise-queue-"));
    redis = await startRedis();
    const env = { RUN_LOG: join(dir, "runs.log") };
    [server, ...workers] = await Promise.all([
      spawnServer(spec, ["--redis", redis.url, "--pool-size", "1", "--metrics"], env),
      spawnWorker(spec, redis.url, ["--pool-size", "2"], env),
      spawnWorker(spec, redis.url, ["--pool-size", "2"], env),
    ]);
  });
  after(async () => {
    await Promise.all([server?.stop(), ...(workers ?? []).map((w) => w.stop())]);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("queue-lane routes run on the worker processes, never in the server; the access log names the process", async () => {
    const replies = await Promise.all(Array.from({ length: 24 }, () => request(`${server.url}/q/pid`)));
    assert.deepEqual(new Set(replies.map((r) => r.status)), new Set([200]));
    const pids = new Set(replies.map((r) => r.json.pid));
    assert.ok(!pids.has(server.child.pid), "the server ran none");
    assert.ok(
      [...pids].every((pid) => workers.some((w) => w.pid === pid)),
      "only the workers ran them",
    );
    assert.ok(
      replies.every((r) => r.json.thread !== 0),
      "a plain handler runs on its worker process's pool",
    );
    const asyncReply = await request(`${server.url}/q/async-pid`);
    assert.equal(asyncReply.json.thread, 0, "an async handler runs on its worker process's loop");
    assert.equal((await request(`${server.url}/local`)).json.pid, server.child.pid);

    await eventually(() => server.access.filter((e) => e.path === "/q/async-pid").length === 1, 5_000, "the access line");
    const lanes = server.access.filter((e) => e.path.startsWith("/q/")).map((e) => e.lane as string);
    const named = new RegExp(`^queue@${hostname()}:(\\d+)/(worker#\\d+|loop)$`);
    assert.ok(
      lanes.every((lane) => named.test(lane)),
      lanes.join(", "),
    );
    assert.match(server.access.find((e) => e.path === "/q/async-pid")!.lane, /\/loop$/);
    // Each worker process logs the jobs it ran.
    await eventually(() => workers.reduce((n, w) => n + w.jobs.filter((j) => j.name === "GET /q/pid").length, 0) === 24, 5_000, "job lines");
  });

  test("input is validated in the server: a refused request never becomes a job; coerced values cross", async () => {
    const refused = await request(`${server.url}/q/items/abc`);
    assert.equal(refused.status, 422);
    assert.deepEqual(refused.json.detail[0].loc, ["path", "id"]);
    await eventually(() => server.access.some((e) => e.path === "/q/items/abc"), 5_000);
    assert.equal(server.access.find((e) => e.path === "/q/items/abc")!.lane, "loop");
    const ok = await request(`${server.url}/q/items/7?tag=a&tag=b`);
    assert.deepEqual(ok.json, { id: 7, tags: ["a", "b"] });
  });

  test("responses, HttpError, crashes and bodies cross back as between lanes", async () => {
    const teapot = await request(`${server.url}/q/teapot`);
    assert.equal(teapot.status, 418);
    assert.deepEqual(teapot.json, { detail: { short: true } });
    assert.equal(teapot.headers["x-kind"], "teapot");

    const crash = await request(`${server.url}/q/crash`);
    assert.equal(crash.status, 500);
    assert.deepEqual(crash.json, { detail: "Internal Server Error" });
    await eventually(() => server.stderr.some((line) => line.includes("the handler broke")), 5_000, "the error in the server's log");

    const created = await request(`${server.url}/q/created`);
    assert.equal(created.status, 201);
    assert.deepEqual(created.headers["set-cookie"], ["a=1", "b=2"]);

    const bytes = await request(`${server.url}/q/bytes`);
    assert.equal(bytes.headers["content-type"], "application/octet-stream");
    assert.equal(bytes.headers["content-length"], "4");
    assert.deepEqual(
      [...bytes.text.slice(0, 3)].map((c) => c.charCodeAt(0)),
      [0, 1, 2],
    );

    const filed = await request(`${server.url}/q/file`);
    assert.equal(filed.status, 500);
    await eventually(
      () => server.stderr.some((line) => line.includes("a queue-lane route cannot answer with file()")),
      5_000,
      "why, in the server's log",
    );

    const echoed = await request(`${server.url}/q/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"a":[1,2]}' });
    assert.equal(echoed.status, 201);
    assert.deepEqual(echoed.json, { body: { a: [1, 2] }, bytes: false });
    const raw = await request(`${server.url}/q/echo`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.from([9, 8]),
    });
    // Bytes inside a JSON value are base64, as on the other lanes (docs/responses.md#what-becomes-json).
    assert.deepEqual(raw.json, { body: Buffer.from([9, 8]).toString("base64"), bytes: true });
  });

  test("a request crosses to a worker process as to a worker thread: a small upload arrives a file; a spooled one is refused by name", async () => {
    const form = (doc: Blob, name: string) => {
      const body = new FormData();
      body.set("note", "hi");
      body.set("doc", doc, name);
      return body;
    };
    for (const path of ["/q/upload", "/q/upload-async"]) {
      const res = await fetch(`${server.url}${path}`, { method: "POST", body: form(new Blob(["small text"], { type: "text/plain" }), "a.txt") });
      assert.equal(res.status, 200, path);
      const answer = (await res.json()) as Record<string, string>;
      assert.equal(answer.name, "a.txt");
      assert.equal(answer.text, "small text");
    }
    const plain = (await (await fetch(`${server.url}/q/upload`, { method: "POST", body: form(new Blob(["x"]), "b.txt") })).json()) as Record<
      string,
      string
    >;
    assert.equal(plain.note, "hi");
    assert.equal(plain.scheme, "http", "every field of the request crosses, as to a worker thread");

    const big = await fetch(`${server.url}/q/upload`, { method: "POST", body: form(new Blob([new Uint8Array(2 * 1024 * 1024)]), "big.bin") });
    assert.equal(big.status, 500);
    await eventually(
      // JSON lines: the file's name is in escaped quotes there.
      () =>
        server.stderr.some(
          (line) => line.includes("POST /q/upload: the request cannot be sent to a queue worker: its upload") && line.includes("big.bin"),
        ),
      5_000,
      "why, in the server's log",
    );
  });

  test("dependencies run beside the handler on the worker; their HttpError keeps its status and headers", async () => {
    const denied = await request(`${server.url}/q/me`);
    assert.equal(denied.status, 401);
    assert.equal(denied.headers["www-authenticate"], "Bearer");
    const me = await request(`${server.url}/q/me`, { headers: { "x-user": "ada" } });
    assert.equal(me.json.user, "ada");
    assert.notEqual(me.json.pid, server.child.pid);
  });

  test("durable jobs run once on a worker, retry with backoff, and their state reads back", async () => {
    const post = (path: string, body: unknown) =>
      request(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const state = async (name: string, id: string) => (await request(`${server.url}/jobs/${name}/${id}`)).json;

    const counted = (await post("/jobs/counted", { tag: "c1" })).json.id;
    const fromThread = await post("/jobs/counted-from-thread", { tag: "c2" });
    assert.notEqual(fromThread.json.thread, 0, "queued from a plain handler, on the server's pool");
    const flaky = (await post("/jobs/flaky", { tag: "f1", failures: 1 })).json.id;
    const doomed = (await post("/jobs/doomed", {})).json.id;

    await eventually(async () => (await state("counted", counted)).status === "completed", 10_000, "counted to complete");
    const done = await state("counted", counted);
    assert.equal(done.attempts, 1);
    assert.equal(done.result.tag, "c1");
    assert.ok(workers.some((w) => w.pid === done.result.pid));
    await eventually(async () => (await state("counted", fromThread.json.id)).status === "completed", 10_000, "the job from a thread");

    await eventually(async () => (await state("flaky", flaky)).status === "completed", 10_000, "flaky to complete");
    assert.equal((await state("flaky", flaky)).attempts, 2);
    await eventually(async () => (await state("doomed", doomed)).status === "failed", 10_000, "doomed to fail");
    const failed = await state("doomed", doomed);
    assert.equal(failed.attempts, 2);
    assert.equal(failed.error, "never works");

    assert.equal(
      runs()
        .split("\n")
        .filter((line) => line.startsWith("counted:c1 ")).length,
      1,
      "run exactly once",
    );
    assert.equal((await request(`${server.url}/jobs/counted/nope`)).status, 404);
    assert.equal((await request(`${server.url}/jobs/flaky/${counted}`)).status, 404, "another job's id");
  });

  test("/metrics shows the queue lane's depth, wait and run time by route", async () => {
    const text = (await request(`${server.url}/metrics`)).text;
    assert.match(text, /loopwise_queue_lane_run_seconds_count\{method="GET",route="\/q\/pid"\} 24/);
    assert.match(text, /loopwise_queue_lane_wait_seconds_count\{method="GET",route="\/q\/pid"\} 24/);
    assert.match(text, /# TYPE loopwise_queue_lane_depth gauge/);
    assert.match(text, /loopwise_queue_jobs\{state="completed"\} \d+/);
    assert.match(text, /loopwise_requests_total\{method="GET",route="\/q\/pid",lane="queue",status="200"\} 24/);
  });

  test("a TestClient given the Redis sends queue-lane routes to the workers too; without it they answer 503", async () => {
    const withQueue = await TestClient.start(app, { redis: redis.url, poolSize: 1 });
    try {
      const reply = await withQueue.get("/q/pid");
      assert.equal(reply.status, 200);
      assert.match(reply.lane, /^queue@/);
      assert.ok(workers.some((w) => w.pid === reply.json().pid));
    } finally {
      await withQueue.close();
    }
    const without = await TestClient.start(app, { poolSize: 1 });
    try {
      const reply = await without.get("/q/pid");
      assert.equal(reply.status, 503);
      assert.match(reply.json().detail, /runs on the queue lane/);
    } finally {
      await without.close();
    }
  });
});
