// The elastic pool, with real worker threads: it sees its workers blocked and grows, sees them
// computing and does not, and a growth worker that cannot start is not replaced. Retirement,
// slot reuse and the rest of the policy are checked in virtual time (policy.test.ts).
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type * as Pool from "../../src/pool/pool.ts";
import type { TaskKind } from "../../src/pool/protocol.ts";
import { delay } from "../helpers.ts";

// The compiled pool: its worker entry is JavaScript (`npm test` builds first).
const { WorkerPool } = (await import(new URL("../../dist/pool/pool.js", import.meta.url).href)) as typeof Pool;
const moduleUrl = new URL("../fixtures/pool-host.mjs", import.meta.url).href;
const Blocking = 1 as TaskKind;

function makePool(options: Partial<Pool.PoolOptions>, events: Pool.PoolResizeEvent[] = []) {
  return new WorkerPool({ moduleUrl, exportName: "host", signature: ["pool-host fixture"], onResize: (e) => events.push(e), ...options });
}

describe("growth while the busy workers are blocked", () => {
  const events: Pool.PoolResizeEvent[] = [];
  // A long wait limit: on a loaded machine workers start slowly, and these tests are about growth, not shedding.
  const pool = makePool({ size: 2, maxSize: 40, idleTimeoutMs: 400, maxQueueWaitMs: 60_000 }, events);
  after(() => pool.terminate());

  test("40 concurrent 1 s sleepers on a core of 2 all finish in about one sleep, not twenty", async () => {
    await pool.start();
    const started = performance.now();
    const outcomes = await Promise.all(Array.from({ length: 40 }, () => pool.run(Blocking, "sleep", { ms: 1000 })));
    const elapsed = performance.now() - started;
    // A core of 2 alone would take 20 s; growth costs a tick and the start of the new workers
    // (here slower than in production: the test runner's --import tsx loads tsx in every worker).
    assert.ok(elapsed < 8000, `took ${Math.round(elapsed)} ms`);
    // On a loaded machine workers start slowly and the first ones take a second sleeper each: more than 10, not 40.
    assert.ok(new Set(outcomes.map((o) => o.slot)).size > 10, "the sleepers ran on more than 10 workers");
    assert.ok(outcomes.every((o) => o.slot >= 1 && o.slot <= 40));
    const grew = events.filter((e) => e.kind === "grow");
    assert.ok(grew.length >= 1 && grew[0]!.from === 2, JSON.stringify(events));
    assert.ok(grew.at(-1)!.to > 20 && grew.at(-1)!.to <= 40);
    // It grew by what was waiting, not one worker at a time.
    assert.ok(grew[0]!.to - grew[0]!.from > 10, JSON.stringify(grew[0]));
  });

  test("growth workers start a few at a time: the first takes work long before the last is ready", async () => {
    // Let the workers of the first test retire, so that this burst grows again.
    for (let i = 0; i < 100 && pool.size > 2; i++) await delay(50);
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => pool.run(Blocking, "sleep", { ms: 600 })));
    // When each growth worker took its first sleeper, ms after the burst.
    const firstTaken = new Map<number, number>();
    for (const o of outcomes) if (o.slot > 2) firstTaken.set(o.slot, Math.min(firstTaken.get(o.slot) ?? Infinity, o.queuedMs));
    const times = [...firstTaken.values()].sort((a, b) => a - b);
    assert.ok(times.length >= 10, `${times.length} growth workers took work`);
    // Started all at once, they share the cores and become ready together, late; a few at a time,
    // they come one after another, the first within a small part of the time the last needs.
    assert.ok(
      times[0]! < times.at(-1)! / 2,
      `first growth worker took work after ${Math.round(times[0]!)} ms, the last after ${Math.round(times.at(-1)!)} ms`,
    );
  });
});

describe("no growth for CPU-bound work", () => {
  const events: Pool.PoolResizeEvent[] = [];
  // A core as large as this machine has cores, and room to grow that must not be used.
  const pool = makePool({ size: 2, maxSize: 8 }, events);
  after(() => pool.terminate());

  test("burners on a full core leave the pool at its core size", async () => {
    await pool.start();
    let largest = pool.size;
    const watch = setInterval(() => (largest = Math.max(largest, pool.size)), 5);
    try {
      for (let round = 0; round < 3; round++) {
        await Promise.all(Array.from({ length: 8 }, () => pool.run(Blocking, "burn", { ms: 150 })));
      }
    } finally {
      clearInterval(watch);
    }
    assert.equal(largest, 2);
    assert.deepEqual(events, []);
  });
});

describe("a growth worker that cannot start", () => {
  const events: Pool.PoolResizeEvent[] = [];
  const restarts: Pool.RestartFailedEvent[] = [];
  const exits: Pool.WorkerExitEvent[] = [];
  const pool = makePool({ size: 2, maxSize: 6, onRestartFailed: (e) => restarts.push(e), onWorkerExit: (e) => exits.push(e) }, events);
  after(() => pool.terminate());

  test("is not replaced: the core runs the work, and the pool is back at its core", async () => {
    // Workers copy the environment when they start: the core starts, growth workers refuse.
    process.env.POOL_HOST_FAIL_ABOVE = "2";
    try {
      await pool.start();
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => pool.run(Blocking, "sleep", { ms: 300 })));
      assert.ok(outcomes.every((o) => o.slot <= 2));
    } finally {
      delete process.env.POOL_HOST_FAIL_ABOVE;
    }
    assert.ok(
      events.some((e) => e.kind === "grow"),
      "it tried to grow",
    );
    for (let i = 0; i < 40 && pool.size > 2; i++) await delay(25);
    assert.equal(pool.size, 2);
    assert.deepEqual(restarts, [], "only core slots retry");
    assert.ok(exits.length > 0 && exits.every((e) => e.slot > 2 && !e.replaced && !e.hadTask), JSON.stringify(exits));
  });
});
