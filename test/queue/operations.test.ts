// Running worker processes: a SIGTERM drains, a SIGKILL hands the job to another worker, and a
// handler that blocks its process's loop past BullMQ's lock duration still runs only once.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fixture, request, spawnServer, type ChildServer } from "../helpers.ts";
import { eventually, spawnWorker, startRedis, type ChildWorker, type RedisServer } from "../redis.ts";

const spec = `${fixture("queue-app.ts")}:app`;

describe("worker processes in operation", () => {
  let redis: RedisServer;
  let server: ChildServer;
  let dir: string;
  let env: Record<string, string>;
  const started: ChildWorker[] = [];
  /** The pids that started `what`, in order. */
  const runs = (what: string) => {
    let text = "";
    try {
      text = readFileSync(env.RUN_LOG!, "utf8");
    } catch {}
    return text
      .split("\n")
      .filter((line) => line.startsWith(`${what} `))
      .map((line) => Number(line.split(" ")[1]));
  };
  const worker = async () => {
    const child = await spawnWorker(spec, redis.url, ["--pool-size", "2"], env);
    started.push(child);
    return child;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "loopwise-queue-"));
    env = { RUN_LOG: join(dir, "runs.log") };
    redis = await startRedis();
    server = await spawnServer(spec, ["--redis", redis.url, "--pool-size", "1"], env);
  });
  after(async () => {
    await Promise.all([server?.stop(), ...started.map((w) => w.stop("SIGKILL"))]);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("SIGTERM on a worker finishes its running jobs, takes no new one, and loses no request", async () => {
    const [first, second] = await Promise.all([worker(), worker()]);
    const replies = Array.from({ length: 8 }, (_, i) => request(`${server.url}/q/slow?tag=t${i}&ms=1200`));
    await eventually(
      () => Array.from({ length: 8 }, (_, i) => runs(`slow:t${i}`)).some((pids) => pids.includes(first.pid)),
      10_000,
      "the first worker to take a job",
    );
    const stopping = first.stop("SIGTERM");
    const answers = await Promise.all(replies);
    assert.deepEqual(
      answers.map((r) => r.status),
      Array(8).fill(200),
    );
    assert.equal(await stopping, 0, "a clean exit");
    const messages = first.stderr.map((line) => JSON.parse(line).msg as string);
    assert.ok(
      messages.some((m) => /Taking no new jobs; waiting for \d+ running jobs? to finish/.test(m)),
      messages.join("\n"),
    );
    assert.ok(
      answers.some((r) => r.json.pid === first.pid),
      "the stopping worker finished what it had",
    );
    for (let i = 0; i < 8; i++) assert.equal(runs(`slow:t${i}`).length, 1, `t${i} ran once`);
    // From now on the other worker takes everything.
    const after = await Promise.all(Array.from({ length: 4 }, () => request(`${server.url}/q/pid`)));
    assert.deepEqual(new Set(after.map((r) => r.json.pid)), new Set([second.pid]));
  });

  test("a worker killed mid-job: the job goes back to the queue and another worker answers it", async () => {
    const survivor = started.find((w) => w.child.exitCode === null && w.child.signalCode === null) ?? (await worker());
    const victim = await worker();
    // Only the victim is free: the survivor is kept busy until the victim has taken the job.
    const busy = [request(`${server.url}/q/slow?tag=busy1&ms=1500`), request(`${server.url}/q/slow?tag=busy2&ms=1500`)];
    await eventually(() => runs("slow:busy1").length + runs("slow:busy2").length === 2, 10_000, "the survivor to be busy");
    const reply = request(`${server.url}/q/slow?tag=killed&ms=2500`);
    await eventually(() => runs("slow:killed").length === 1, 10_000, "the job to start");
    const ranFirstOn = runs("slow:killed")[0];
    const dead = ranFirstOn === victim.pid ? victim : survivor;
    await dead.stop("SIGKILL");
    const answer = await reply;
    assert.equal(answer.status, 200);
    assert.notEqual(answer.json.pid, dead.pid, "answered by another worker");
    assert.deepEqual(runs("slow:killed"), [dead.pid, answer.json.pid], "run again, once, elsewhere");
    await Promise.all(busy);
  });

  test("a handler that blocks its worker's loop past the lock duration keeps its job: it runs once", async () => {
    await Promise.all([worker(), worker()]);
    const reply = await request(`${server.url}/q/block?tag=b&ms=9000`);
    assert.equal(reply.status, 200);
    assert.deepEqual(runs("block:b"), [reply.json.pid], "run once, never declared stalled");
    const stalled = started.flatMap((w) => w.stderr).filter((line) => line.includes('"event":"job-stalled"'));
    assert.ok(!stalled.some((line) => line.includes("block")), stalled.join("\n"));
    // The worker's own loop monitor named the route that blocked it.
    const blocker = started.find((w) => w.pid === reply.json.pid)!;
    await eventually(
      () => blocker.stderr.some((line) => line.includes('"event":"loop-blocked"') && line.includes("GET /q/block")),
      5_000,
      "the block warning",
    );
  });

  test("SIGTERM on the server waits for its queue-lane requests in flight, then closes the queue", async () => {
    const reply = request(`${server.url}/q/slow?tag=drain&ms=1500`);
    await eventually(() => runs("slow:drain").length === 1, 10_000, "the job to start");
    const exit = server.stop("SIGTERM");
    const answer = await reply;
    assert.equal(answer.status, 200);
    assert.equal(await exit, 0);
  });
});
