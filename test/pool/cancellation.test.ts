// Cancelling pool tasks through their signal, and the caller's context reaching the task host,
// with real worker threads.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type * as Pool from "../../src/pool/pool.ts";
import type { TaskKind } from "../../src/pool/protocol.ts";
import { delay } from "../helpers.ts";

// The compiled pool: its worker entry is JavaScript (`npm test` builds first).
const { WorkerPool, TaskCancelledError } = (await import(new URL("../../dist/pool/pool.js", import.meta.url).href)) as typeof Pool;
const moduleUrl = new URL("../fixtures/pool-host.mjs", import.meta.url).href;
const Blocking = 1 as TaskKind;

describe("cancellation (a pool of 1)", () => {
  const pool = new WorkerPool({ size: 1, maxSize: 1, moduleUrl, exportName: "host", signature: ["pool-host fixture"] });
  before(() => pool.start());
  after(() => pool.terminate());

  test("a queued task cancelled leaves the queue at once and never runs", async () => {
    const ran = new Int32Array(new SharedArrayBuffer(8));
    const first = pool.run(Blocking, "counted", { ran, index: 0, ms: 400 });
    const controller = new AbortController();
    const second = pool.run(Blocking, "counted", { ran, index: 1, ms: 0 }, { signal: controller.signal });
    await delay(50);
    assert.equal(pool.queued, 1);
    const cancelledAt = performance.now();
    controller.abort();
    await assert.rejects(second, (error: Error) => {
      assert.ok(error instanceof TaskCancelledError);
      assert.equal(error.started, false);
      return true;
    });
    assert.ok(performance.now() - cancelledAt < 100, "it was refused at once, not when the worker freed up");
    assert.equal(pool.queued, 0);
    await first;
    await delay(50);
    assert.deepEqual([...ran], [1, 0], "the cancelled task never ran");
  });

  test("a signal already aborted is refused without queueing", async () => {
    await assert.rejects(pool.run(Blocking, "sleep", { ms: 0 }, { signal: AbortSignal.abort() }), TaskCancelledError);
  });

  test("a running plain handler sees signal.aborted turn true while it works, and stops early", async () => {
    const controller = new AbortController();
    const running = pool.run<{ sawAbort: boolean; ms: number }>(Blocking, "stepsUntilAborted", { ms: 5000 }, { signal: controller.signal });
    await delay(150);
    controller.abort();
    const { value } = await running;
    assert.equal(value.sawAbort, true);
    assert.ok(value.ms >= 100 && value.ms < 2000, `it worked ${Math.round(value.ms)} ms`);
  });

  test("a running async handler hears the abort event at its await", async () => {
    const controller = new AbortController();
    const running = pool.run<{ sawAbort: boolean; reason: string }>(Blocking, "awaitAbort", { ms: 5000 }, { signal: controller.signal });
    await delay(100);
    controller.abort();
    const { value } = await running;
    assert.deepEqual([value.sawAbort, value.reason], [true, "AbortError"]);
  });

  test("tasks without a signal get none; a task that finished is not affected by a later abort", async () => {
    const { value } = await pool.run<{ sawAbort: boolean; steps: number }>(Blocking, "stepsUntilAborted", { ms: 30 });
    assert.equal(value.sawAbort, false);
    const controller = new AbortController();
    const outcome = await pool.run(Blocking, "sleep", { ms: 1 }, { signal: controller.signal });
    controller.abort();
    assert.equal(typeof outcome.slot, "number");
    // The pool is not left holding anything.
    await delay(20);
    assert.equal(pool.busy, 0);
  });

  test("the caller's context reaches the task host, cloned", async () => {
    const context = { requestId: "req-42", user: { id: 7 }, at: new Date(0) };
    const { value } = await pool.run<{ context: unknown }>(Blocking, "context", {}, { context });
    assert.deepEqual(value.context, context);
    const none = await pool.run<{ context: unknown }>(Blocking, "context", {});
    assert.equal(none.value.context, undefined);
  });
});
