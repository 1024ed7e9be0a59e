// Redis killed under queue-lane requests, and restarted (with its data, as a Redis that persists
// would be): every request waiting gets one answer within a bound far below its 25 s timeout,
// its result when Redis is back in time, 503 with Retry-After when not; and the lane serves
// again soon after Redis is back, however long it was away. A frozen Redis (connections open,
// nothing answered) is taken for lost after a few seconds of silence.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { delay, request, type Reply } from "../helpers.ts";
import { eventually, queueRig } from "../redis.ts";

describe("Redis lost while queue-lane jobs run", () => {
  // Redis keeps every write, so a killed one restarts with its jobs, as one that persists would.
  const rig = queueRig({ persistent: true, serverArgs: ["--probes"], workerArgs: ["--pool-size", "4", "--concurrency", "4"], workerStop: "SIGKILL" });
  const { runs } = rig;
  const slow = (tag: string, ms: number) =>
    request(`${rig.server.url}/q/slow?tag=${tag}&ms=${ms}`).then(
      (reply) => ({ ...reply, at: Date.now() }),
      (error: Error) => ({ status: 0, headers: {} as Reply["headers"], json: undefined, text: error.message, at: Date.now() }),
    );

  test("back within the bound: every waiting request gets its answer, each job ran once", async () => {
    const tags = ["a1", "a2", "a3", "a4"];
    const replies = tags.map((tag) => slow(tag, 2_500));
    await eventually(() => tags.every((tag) => runs(tag) === 1), 10_000, "the four jobs to start");
    const killedAt = Date.now();
    await rig.redis.kill();
    await delay(1_500);
    await rig.redis.restart();
    for (const reply of await Promise.all(replies)) {
      assert.equal(reply.status, 200, reply.text);
      assert.ok(reply.at - killedAt < 10_000, `answered ${reply.at - killedAt} ms after Redis was killed`);
    }
    assert.deepEqual(
      tags.map((tag) => runs(tag)),
      [1, 1, 1, 1],
    );
    const messages = rig.server.stderr.map((line) => JSON.parse(line).msg as string);
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
    await rig.redis.kill();
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
    await eventually(async () => (ready = await request(`${rig.server.url}/readyz`)).status === 503, 3_000, "not ready while Redis is away");
    assert.deepEqual(ready!.json.reasons, ["Redis is unreachable: queue-lane requests would get 503"]);
    // An outage long enough that BullMQ's own backoff would wait 20 s before trying again.
    await delay(Math.max(0, killedAt + 7_000 - Date.now()));
    await rig.redis.restart();
    const backAt = Date.now();
    let served: Awaited<ReturnType<typeof slow>> | undefined;
    while (Date.now() - backAt < 5_000) {
      served = await slow("b4", 0);
      if (served.status === 200) break;
      await delay(100);
    }
    assert.equal(served?.status, 200);
    await eventually(async () => (await request(`${rig.server.url}/readyz`)).status === 200, 10_000, "ready again");
    // A generous bound for a loaded machine: BullMQ's own backoff would wait up to 20 s here.
    assert.ok(served!.at - backAt < 4_000, `served again ${served!.at - backAt} ms after Redis was back`);
  });

  test("frozen (connections open, nothing answered): 503 within the bound, not the route's 25 s; served again once it answers", async () => {
    const tags = ["c1", "c2"];
    const replies = tags.map((tag) => slow(tag, 3_000));
    await eventually(() => tags.every((tag) => runs(tag) === 1), 10_000, "the two jobs to start");
    const frozenAt = Date.now();
    rig.redis.freeze();
    try {
      for (const reply of await Promise.all(replies)) {
        assert.equal(reply.status, 503, reply.text);
        assert.equal(reply.headers["retry-after"], "1");
        // Silence for 3 s counts as lost, then the outage's 5 s bound: far from the route's 25 s.
        assert.ok(reply.at - frozenAt < 15_000, `answered ${reply.at - frozenAt} ms after Redis froze`);
      }
      const meanwhile = await slow("c3", 0);
      assert.equal(meanwhile.status, 503, "refused at once while Redis is silent");
      const messages = rig.server.stderr.map((line) => JSON.parse(line).msg as string);
      assert.ok(
        messages.some((m) => m.includes("has not answered a ping for 3 s")),
        messages.join("\n"),
      );
    } finally {
      rig.redis.thaw();
    }
    const thawedAt = Date.now();
    let served: Awaited<ReturnType<typeof slow>> | undefined;
    while (Date.now() - thawedAt < 8_000) {
      served = await slow("c4", 0);
      if (served.status === 200) break;
      await delay(100);
    }
    assert.equal(served?.status, 200, "served again once Redis answers");
  });
});
