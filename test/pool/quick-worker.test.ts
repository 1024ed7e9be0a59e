// The quick worker, with real worker threads: when quick tasks wait while every worker holds
// slower work and no growth is coming, one worker above the max starts for them alone. What it
// may take and when it is retired are the policy's, checked in virtual time (policy.test.ts).
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type * as Pool from "../../src/pool/pool.ts";
import type { TaskKind } from "../../src/pool/protocol.ts";
import { delay } from "../helpers.ts";

const { WorkerPool } = (await import(new URL("../../dist/pool/pool.js", import.meta.url).href)) as typeof Pool;
const moduleUrl = new URL("../fixtures/pool-host.mjs", import.meta.url).href;
const Blocking = 1 as TaskKind;

function makePool(options: Partial<Pool.PoolOptions>, events: Pool.PoolResizeEvent[]) {
  return new WorkerPool({ moduleUrl, exportName: "host", signature: ["pool-host fixture"], onResize: (e) => events.push(e), ...options });
}

/** Runs the hello target until the pool has measured it as quick (three runs). */
async function measureHello(pool: Pool.WorkerPool): Promise<void> {
  for (let i = 0; i < 3; i++) await pool.run(Blocking, "hello", {});
}

describe("a pool at its max, every worker held by a sleeper", () => {
  const events: Pool.PoolResizeEvent[] = [];
  const pool = makePool({ size: 1, maxSize: 1 }, events);
  after(() => pool.terminate());

  test("a quick task is served by the quick worker long before the sleeper ends", async () => {
    await pool.start();
    await measureHello(pool);
    const sleeper = pool.run(Blocking, "sleep", { ms: 1500 });
    await delay(50);
    const asked = performance.now();
    const hello = await pool.run(Blocking, "hello", {});
    const helloMs = performance.now() - asked;
    assert.equal(hello.slot, 2, "the slot above the max");
    assert.ok(helloMs < 1000, `the hello took ${Math.round(helloMs)} ms`);
    const quick = events.filter((e) => e.kind === "quick");
    assert.equal(quick.length, 1, JSON.stringify(events));
    assert.deepEqual(quick[0], { kind: "quick", from: 1, to: 2, slot: 2, waiting: 1 });
    assert.equal((await sleeper).slot, 1);
  });
});

describe("a stream of trivial tasks from their first, unmeasured ones on, on a pool at its max", () => {
  const events: Pool.PoolResizeEvent[] = [];
  const pool = makePool({ size: 2, maxSize: 2 }, events);
  after(() => pool.terminate());

  test("starts no quick worker: the tasks ahead of the quick ones are not slow, only not measured yet", async () => {
    await pool.start();
    // 32 callers, each sending its next task when the last is answered: the first tasks run
    // before the target is measured, so quick ones soon wait behind them (as under HTTP load).
    const caller = async () => {
      for (let i = 0; i < 60; i++) assert.ok((await pool.run(Blocking, "burnSome", { ms: 0.3 })).slot <= 2);
    };
    await Promise.all(Array.from({ length: 32 }, caller));
    assert.deepEqual(events, []);
  });
});

describe("a quick route that turns slow, and a quick task that kills the quick worker, while the pool is full", () => {
  const events: Pool.PoolResizeEvent[] = [];
  const pool = makePool({ size: 1, maxSize: 1, idleTimeoutMs: 5000 }, events);
  after(() => pool.terminate());

  test("each task gets one outcome, the quick worker's death costs only its own task, and the pool serves on", async () => {
    await pool.start();
    for (let i = 0; i < 3; i++) await pool.run(Blocking, "hiccup", {});
    await measureHello(pool);
    const sleeper = pool.run(Blocking, "sleep", { ms: 1500 });
    await delay(50);
    const settled = (p: Promise<Pool.TaskOutcome>) =>
      p.then(
        (o) => ({ ok: true, slot: o.slot }),
        (e: Error) => ({ ok: false, error: e.name }),
      );
    // Measured quick, so it goes ahead: it starts the quick worker, and takes 600 ms there.
    const slow = settled(pool.run(Blocking, "hiccup", { ms: 600 }));
    await delay(20);
    const quick = settled(pool.run(Blocking, "hello", {}));
    const crash = settled(pool.run(Blocking, "hello", { exit: true }));
    // Measured slow now, it no longer goes ahead: it waits for the core worker.
    await slow;
    const turnedSlow = settled(pool.run(Blocking, "hiccup", {}));
    const [a, b, c, d] = await Promise.all([slow, quick, crash, turnedSlow]);
    const all = JSON.stringify([a, b, c, d, events]);
    assert.deepEqual(a, { ok: true, slot: 2 }, all);
    assert.deepEqual(b, { ok: true, slot: 2 }, `it waited for the quick worker, not for the sleeper: ${all}`);
    assert.deepEqual(c, { ok: false, error: "WorkerCrashedError" }, all);
    assert.deepEqual(d, { ok: true, slot: 1 }, `a route measured slow is not the quick worker's: ${all}`);
    assert.equal((await sleeper).slot, 1, "the core worker's task is untouched");
    // The quick worker is gone, not replaced; the pool still answers.
    assert.equal((await pool.run(Blocking, "hello", {})).slot, 1);
    assert.equal(pool.size, 1);
    assert.equal(events.filter((e) => e.kind === "quick").length, 1);
  });
});
