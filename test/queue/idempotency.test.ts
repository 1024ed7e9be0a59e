// Idempotency-Key on queue-lane routes: a request that carries one runs at most once; a retry
// gets the stored answer, or 409 while the first still runs; the key sent with another request is
// a 422; a malformed key is a 400.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { delay, request } from "../helpers.ts";
import { queueRig } from "../redis.ts";

describe("Idempotency-Key on the queue lane", () => {
  const rig = queueRig({ workerArgs: ["--pool-size", "2", "--concurrency", "2"] });
  const { runs } = rig;
  const slow = (tag: string, ms: number, key?: string) =>
    request(`${rig.server.url}/q/slow?tag=${tag}&ms=${ms}`, { headers: key === undefined ? {} : { "idempotency-key": key } });

  test("a retry while the first runs gets 409; once it is answered, the stored answer; the handler ran once", async () => {
    const key = randomUUID();
    const first = slow("k1", 1_000, key);
    await delay(300);
    const during = await slow("k1", 1_000, key);
    assert.equal(during.status, 409);
    assert.equal(during.headers["retry-after"], "1");
    assert.match(during.json.detail, /Idempotency-Key is still being processed/);
    const answer = await first;
    assert.equal(answer.status, 200);
    const retry = await slow("k1", 1_000, `"${key}"`);
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.json, answer.json, "the stored answer, the quoted form of the same key included");
    assert.equal(runs("k1"), 1);
  });

  test("a key sent again with another request (another query here) is a 422 and runs nothing", async () => {
    const key = randomUUID();
    assert.equal((await slow("k4", 0, key)).status, 200);
    const other = await slow("k4-other", 0, key);
    assert.equal(other.status, 422);
    assert.match(other.json.detail, /Idempotency-Key was sent before with another request/);
    assert.equal(runs("k4-other"), 0);
    assert.equal((await slow("k4", 0, key)).status, 200, "the first request's retry still gets its answer");
    assert.equal(runs("k4"), 1);
  });

  test("the same key on another route, or no key at all, runs anew", async () => {
    const key = randomUUID();
    assert.equal((await slow("k2", 0, key)).status, 200);
    assert.equal((await request(`${rig.server.url}/q/pid`, { headers: { "idempotency-key": key } })).status, 200);
    assert.equal((await slow("k2", 0)).status, 200);
    assert.equal((await slow("k2", 0)).status, 200);
    assert.equal(runs("k2"), 3);
  });

  test("a malformed key is a 400 and never becomes a job", async () => {
    for (const key of ["has space", "x".repeat(256), "", "é"]) {
      const reply = await slow("k3", 0, key);
      assert.equal(reply.status, 400, JSON.stringify(key));
      assert.match(reply.json.detail, /Idempotency-Key must be 1 to 255 visible ASCII characters/);
    }
    assert.equal(runs("k3"), 0);
  });
});
