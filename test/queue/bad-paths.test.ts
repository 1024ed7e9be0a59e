// The queue lane's bad paths, with real processes: no worker answers in time, the client leaves,
// a worker runs another version of the app, Redis goes away, the server is started wrong.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { delay, fixture, request, runCli, spawnServer, type ChildServer } from "../helpers.ts";
import { eventually, spawnWorker, startRedis, type RedisServer } from "../redis.ts";

const spec = `${fixture("queue-app.ts")}:app`;

describe("with no worker in time", () => {
  let redis: RedisServer;
  let server: ChildServer;
  let dir: string;
  let env: Record<string, string>;
  const runs = (what: string) => {
    let text = "";
    try {
      text = readFileSync(env.RUN_LOG!, "utf8");
    } catch {}
    return text.split("\n").filter((line) => line.startsWith(`${what} `));
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "loopwise-queue-"));
    env = { RUN_LOG: join(dir, "runs.log") };
    redis = await startRedis();
    server = await spawnServer(spec, ["--redis", redis.url, "--pool-size", "1", "--max-queue", "2"], env);
  });
  after(async () => {
    await server?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a request no worker takes gets 504 after its timeout, and its job never runs late; a client that leaves takes its job along", async () => {
    const started = Date.now();
    const late = request(`${server.url}/q/sleep?tag=late`);
    // This client leaves before any worker is there: its job is removed, not left for later.
    const gone = httpRequest(`${server.url}/q/sleep?tag=gone`);
    gone.on("error", () => {});
    gone.end();
    await delay(150);
    // Two requests of this server already wait for a worker process: a third is refused at once.
    const third = await request(`${server.url}/q/sleep?tag=third`);
    assert.equal(third.status, 503);
    assert.equal(third.headers["retry-after"], "1");
    await delay(150);
    gone.destroy();
    const reply = await late;
    assert.equal(reply.status, 504);
    assert.deepEqual(reply.json, { detail: "The handler did not finish within 1500 ms" });
    assert.ok(Date.now() - started >= 1400, "answered at the route's timeout");

    const worker = await spawnWorker(spec, redis.url, ["--pool-size", "1"], env);
    try {
      const fresh = await request(`${server.url}/q/sleep?tag=fresh`);
      assert.equal(fresh.status, 200);
      await delay(500);
      assert.deepEqual(runs("sleep:late"), [], "the job of the 504 never ran");
      assert.deepEqual(runs("sleep:gone"), [], "the job of the client that left never ran");
      assert.deepEqual(runs("sleep:third"), [], "the refused request made no job");
      assert.equal(runs("sleep:fresh").length, 1);

      // Taken in time but still running at the deadline: 504, and the worker stops its thread.
      const slow = await request(`${server.url}/q/sleep?tag=overrun&ms=5000`);
      assert.equal(slow.status, 504);
      await eventually(() => worker.jobs.some((j) => j.target === "/q/sleep?tag=overrun&ms=5000"), 5_000, "the worker's line");
      assert.equal(worker.jobs.find((j) => j.target === "/q/sleep?tag=overrun&ms=5000")!.status, 504);
      await eventually(() => worker.stderr.some((line) => line.includes("ran past its timeout")), 5_000, "its worker thread to be replaced");
    } finally {
      assert.equal(await worker.stop(), 0);
    }
  });

  test("jobs a worker cannot run (not Loopwise's, unreadable, unknown) fail plainly; the worker keeps working", async () => {
    const { Queue } = await import("bullmq");
    const intruder = new Queue("jobs", { prefix: "loopwise", connection: { host: "127.0.0.1", port: redis.port } });
    try {
      const future = Date.now() + 60_000;
      const jobs = await Promise.all([
        intruder.add("junk", { foo: 1 }),
        intruder.add("GET /q/pid", { kind: "route", route: "GET /q/pid", request: "not base64 at all!", deadline: future, timeoutMs: 60_000 }),
        intruder.add("GET /q/pid", {
          kind: "route",
          route: "GET /q/pid",
          request: Buffer.from("garbage").toString("base64"),
          deadline: future,
          timeoutMs: 60_000,
        }),
        intruder.add("nope", { kind: "durable", input: null }),
      ]);
      const worker = await spawnWorker(spec, redis.url, ["--pool-size", "1"], env);
      try {
        await eventually(async () => (await Promise.all(jobs.map((job) => job.isFailed()))).every(Boolean), 10_000, "the jobs to fail");
        const reasons = await Promise.all(jobs.map(async (job) => (await intruder.getJob(job.id!))!.failedReason));
        assert.match(reasons[0]!, /is not a Loopwise job/);
        assert.match(reasons[1]!, /the request cannot be read/);
        assert.match(reasons[2]!, /the request cannot be read/);
        assert.match(reasons[3]!, /declares no durable job "nope"/);
        assert.equal((await request(`${server.url}/q/sleep?tag=after-junk`)).status, 200);
      } finally {
        assert.equal(await worker.stop(), 0);
      }
    } finally {
      await intruder.close();
    }
  });

  test("a worker whose app lacks the route fails the job at once, said plainly (500), instead of timing out", async () => {
    const other = await spawnWorker(`${fixture("lanes-app.ts")}:app`, redis.url, ["--pool-size", "1"]);
    try {
      const started = Date.now();
      const reply = await request(`${server.url}/q/pid`);
      assert.equal(reply.status, 500);
      assert.ok(Date.now() - started < 1_500);
      await eventually(() => server.stderr.some((line) => line.includes("has no queue-lane route GET /q/pid")), 5_000, "the reason in the log");
    } finally {
      await other.stop();
    }
  });

  test("with Redis gone, queue-lane requests get 503 at once and other routes still answer", async () => {
    await redis.stop();
    const started = Date.now();
    const reply = await request(`${server.url}/q/pid`);
    assert.equal(reply.status, 503);
    assert.equal(reply.headers["retry-after"], "1");
    assert.ok(Date.now() - started < 1_000, "at once, not after the timeout");
    assert.equal((await request(`${server.url}/local`)).status, 200);
    await eventually(() => server.stderr.some((line) => line.includes("Lost the connection to Redis")), 5_000, "the warning");
    assert.equal(server.stderr.filter((line) => line.includes("Lost the connection to Redis")).length, 1, "said once");
  });
});

describe("started wrong", () => {
  test("an app with queue-lane routes refuses to start without --redis, naming them", async () => {
    const { code, stderr } = await runCli(["run", spec, "--port", "0", "--pool-size", "1"]);
    assert.equal(code, 1);
    assert.match(stderr, /GET \/q\/pid, GET \/q\/async-pid, .* run on the queue lane: start the server with --redis URL/);
  });

  test("an unreachable Redis fails the start of a server and of a worker at once", async () => {
    const closed = "redis://127.0.0.1:9";
    const [server, worker] = await Promise.all([
      runCli(["run", spec, "--port", "0", "--pool-size", "1", "--redis", closed]),
      runCli(["worker", spec, "--pool-size", "1", "--redis", closed]),
    ]);
    assert.equal(server.code, 1);
    assert.match(server.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:9: connect ECONNREFUSED/);
    assert.equal(worker.code, 1);
    assert.match(worker.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:9/);
  });

  test("a malformed --redis, or a worker without one, is a usage error; the password never reaches the log", async () => {
    const bad = await runCli(["run", spec, "--redis", "http://example.com"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--redis: the Redis URL must start with redis:\/\/ or rediss:\/\//);
    const noDb = await runCli(["worker", spec, "--redis", "redis://host/x"]);
    assert.match(noDb.stderr, /the Redis database must be a number/);
    const missing = await runCli(["worker", spec]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /worker needs --redis URL/);
    const secret = await runCli(["worker", spec, "--pool-size", "1", "--redis", "redis://user:s3cret@127.0.0.1:9"]);
    assert.equal(secret.code, 1);
    assert.doesNotMatch(secret.stderr, /s3cret/);
    assert.match(secret.stderr, /redis:\/\/user:\*\*\*\*@127\.0\.0\.1:9/);
  });
});
