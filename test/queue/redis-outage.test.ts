// Redis killed under queue-lane requests, and restarted (with its data, as a Redis that persists
// would be): every request waiting gets one answer within a bound far below its 25 s timeout,
// its result when Redis is back in time, 503 with Retry-After when not; and the lane serves
// again soon after Redis is back, however long it was away.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { delay, fixture, request, spawnServer, type ChildServer, type Reply } from "../helpers.ts";
import { eventually, runCount, spawnWorker, startRedis, type ChildWorker, type RedisServer } from "../redis.ts";

const spec = `${fixture("queue-app.ts")}:app`;

describe("Redis lost while queue-lane jobs run", () => {
  let redis: RedisServer;
  let server: ChildServer;
  let worker: ChildWorker;
  let dir: string;
  let env: Record<string, string>;
  const runs = (tag: string) => runCount(env.RUN_LOG!, `slow:${tag}`);
  const slow = (tag: string, ms: number) =>
    request(`${server.url}/q/slow?tag=${tag}&ms=${ms}`).then(
      (reply) => ({ ...reply, at: Date.now() }),
      (error: Error) => ({ status: 0, headers: {} as Reply["headers"], json: undefined, text: error.message, at: Date.now() }),
    );

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "loopwise-outage-"));
    env = { RUN_LOG: join(dir, "runs.log") };
    redis = await startRedis({ persistent: true });
    server = await spawnServer(spec, ["--redis", redis.url, "--pool-size", "1", "--probes"], env);
    worker = await spawnWorker(spec, redis.url, ["--pool-size", "4", "--concurrency", "4"], env);
  });
  after(async () => {
    await Promise.all([server?.stop(), worker?.stop("SIGKILL")]);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("back within the bound: every waiting request gets its answer, each job ran once", async () => {
    const tags = ["a1", "a2", "a3", "a4"];
    const replies = tags.map((tag) => slow(tag, 2_500));
    await eventually(() => tags.every((tag) => runs(tag) === 1), 10_000, "the four jobs to start");
    const killedAt = Date.now();
    await redis.kill();
    await delay(1_500);
    await redis.restart();
    for (const reply of await Promise.all(replies)) {
      assert.equal(reply.status, 200, reply.text);
      assert.ok(reply.at - killedAt < 10_000, `answered ${reply.at - killedAt} ms after Redis was killed`);
    }
    assert.deepEqual(
      tags.map((tag) => runs(tag)),
      [1, 1, 1, 1],
    );
    const messages = server.stderr.map((line) => JSON.parse(line).msg as string);
    assert.ok(messages.some((m) => m.startsWith("Lost the connection to Redis")));
    assert.ok(
      messages.some((m) => m.startsWith("The connection to Redis at ") && m.endsWith(" is back.")),
      messages.join("\n"),
    );
  });

  test("away past the bound: 503 with Retry-After within 5 s, not the route's 25 s; served again within seconds of Redis's return", async () => {
    const tags = ["b1", "b2"];
    const replies = tags.map((tag) => slow(tag, 3_000));
    await eventually(() => tags.every((tag) => runs(tag) === 1), 10_000, "the two jobs to start");
    const killedAt = Date.now();
    await redis.kill();
    for (const reply of await Promise.all(replies)) {
      assert.equal(reply.status, 503, reply.text);
      assert.equal(reply.headers["retry-after"], "1");
      assert.deepEqual(reply.json, { detail: "Service unavailable: the job queue cannot be reached" });
      assert.ok(reply.at - killedAt < 8_000, `answered ${reply.at - killedAt} ms after Redis was killed`);
    }
    // New requests meanwhile: 503 at once; readiness says why.
    const meanwhile = await slow("b3", 0);
    assert.equal(meanwhile.status, 503);
    let ready: Reply | undefined;
    await eventually(async () => (ready = await request(`${server.url}/readyz`)).status === 503, 3_000, "not ready while Redis is away");
    assert.deepEqual(ready!.json.reasons, ["Redis is unreachable: queue-lane requests would get 503"]);
    // An outage long enough that BullMQ's own backoff would wait 20 s before trying again.
    await delay(Math.max(0, killedAt + 7_000 - Date.now()));
    await redis.restart();
    const backAt = Date.now();
    let served: Awaited<ReturnType<typeof slow>> | undefined;
    while (Date.now() - backAt < 5_000) {
      served = await slow("b4", 0);
      if (served.status === 200) break;
      await delay(100);
    }
    assert.equal(served?.status, 200);
    await eventually(async () => (await request(`${server.url}/readyz`)).status === 200, 10_000, "ready again");
    // A generous bound for a loaded machine: BullMQ's own backoff would wait up to 20 s here.
    assert.ok(served!.at - backAt < 4_000, `served again ${served!.at - backAt} ms after Redis was back`);
  });
});
