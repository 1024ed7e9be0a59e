// Shedding by time, with real worker threads: a task expected to wait past the limit is refused
// at once, one that waited past it by its turn is refused then and never runs, and under a
// sustained flood the limit drops so that the queue stays short.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type * as Pool from "../../src/pool/pool.ts";
import type { TaskKind } from "../../src/pool/protocol.ts";
import { delay } from "../helpers.ts";

// The compiled pool: its worker entry is JavaScript (`npm test` builds first).
const { WorkerPool, PoolFullError } = (await import(new URL("../../dist/pool/pool.js", import.meta.url).href)) as typeof Pool;
const moduleUrl = new URL("../fixtures/pool-host.mjs", import.meta.url).href;
const Blocking = 1 as TaskKind;

async function withPool(maxQueueWaitMs: number, body: (pool: Pool.WorkerPool) => Promise<void>): Promise<void> {
  const pool = new WorkerPool({ size: 1, maxSize: 1, maxQueueWaitMs, moduleUrl, exportName: "host", signature: ["pool-host fixture"] });
  await pool.start();
  try {
    await body(pool);
  } finally {
    await pool.terminate();
  }
}

/** Runs a task; resolves with when and how it ended (never rejects). */
function attempt(pool: Pool.WorkerPool, payload: object, started: number) {
  return pool.run(Blocking, "counted", payload).then(
    (outcome) => ({ ok: true as const, at: performance.now() - started, queuedMs: outcome.queuedMs, error: undefined }),
    (error: Error) => ({ ok: false as const, at: performance.now() - started, queuedMs: 0, error }),
  );
}

describe("shedding by time (a pool of 1)", () => {
  test("a task whose expected wait is past the limit is refused at once, with a Retry-After estimate", () =>
    withPool(500, async (pool) => {
      const ran = new Int32Array(new SharedArrayBuffer(4 * 8));
      // Teach the pool that this target takes about 200 ms.
      for (let i = 0; i < 2; i++) await pool.run(Blocking, "counted", { ran, index: 7, ms: 200 });
      const started = performance.now();
      const results = await Promise.all(Array.from({ length: 7 }, (_, index) => attempt(pool, { ran, index, ms: 200 }, started)));
      // One runs; the next two would wait about 200 and 400 ms; the fourth about 600 ms, past the limit.
      assert.deepEqual(
        results.map((r) => r.ok),
        [true, true, true, false, false, false, false],
      );
      for (const refused of results.filter((r) => !r.ok)) {
        assert.ok(refused.error instanceof PoolFullError, String(refused.error));
        assert.ok(refused.at < 100, `refused after ${Math.round(refused.at)} ms, not at once`);
        assert.ok(refused.error.retryAfterSeconds >= 1);
        assert.match(refused.error.message, /would take about/);
      }
      await delay(20);
      assert.deepEqual([...ran.slice(0, 7)], [1, 1, 1, 0, 0, 0, 0]);
    }));

  test("a task that waited past the limit by its turn is refused then, and never runs", () =>
    withPool(300, async (pool) => {
      // Nothing has run yet, so nothing is known to be slow: all five are admitted.
      const ran = new Int32Array(new SharedArrayBuffer(4 * 5));
      const started = performance.now();
      const results = await Promise.all(Array.from({ length: 5 }, (_, index) => attempt(pool, { ran, index, ms: 200 }, started)));
      assert.deepEqual(
        results.map((r) => r.ok),
        [true, true, false, false, false],
      );
      for (const late of results.slice(2)) {
        assert.ok(late.error instanceof PoolFullError);
        assert.match(late.error.message, /waited \d+ ms for a worker \(limit 300 ms\)/);
        // Answered when the limit passed, not when a worker would have been free (up to a second later).
        assert.ok(late.at >= 290 && late.at < 700, `refused after ${Math.round(late.at)} ms`);
      }
      await delay(20);
      assert.deepEqual([...ran], [1, 1, 0, 0, 0]);
    }));

  test("under a sustained flood the limit drops to a tenth, so the queue a new task meets stays short", () =>
    withPool(400, async (pool) => {
      const ran = new Int32Array(new SharedArrayBuffer(4));
      for (let i = 0; i < 2; i++) await pool.run(Blocking, "counted", { ran, index: 0, ms: 50 });
      const started = performance.now();
      const results: Promise<Awaited<ReturnType<typeof attempt>> & { sentAt: number }>[] = [];
      // Three tasks of 50 ms every 50 ms: three times what one worker can do, for 1.2 s.
      while (performance.now() - started < 1200) {
        const sentAt = performance.now() - started;
        for (let i = 0; i < 3; i++) results.push(attempt(pool, { ran, index: 0, ms: 50 }, started).then((r) => ({ ...r, sentAt })));
        await delay(50);
      }
      const all = await Promise.all(results);
      const early = all.filter((r) => r.ok && r.sentAt < 300);
      const late = all.filter((r) => r.ok && r.sentAt > 700);
      assert.ok(
        early.some((r) => r.queuedMs > 150),
        "a burst may queue up to the limit",
      );
      assert.ok(late.length > 0, "work still gets done under the flood");
      // 40 ms limit, checked each tick and at each turn.
      assert.ok(
        late.every((r) => r.queuedMs < 120),
        `late waits: ${late.map((r) => Math.round(r.queuedMs))}`,
      );
      assert.ok(all.some((r) => !r.ok));
    }));
});
