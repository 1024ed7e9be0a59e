// The main thread's note of the running request, followed across awaits by promise hooks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { noteRunningRequests, type RequestTag } from "../../src/monitor/request-note.ts";
import { Slot, slotCount } from "../../src/monitor/shared-slots.ts";

const slots = new Int32Array(new SharedArrayBuffer(slotCount * Int32Array.BYTES_PER_ELEMENT));
const noted = () => ({ route: slots[Slot.Route], request: slots[Slot.Request] });

test("each request's continuations are noted as its own, interleaved, and nothing is noted between them", async () => {
  const note = noteRunningRequests(slots);
  try {
    const seen: Record<string, { route: number | undefined; request: number | undefined }> = {};
    async function helper(name: string, ms: number) {
      await delay(ms);
      seen[`${name} in helper`] = noted();
    }
    const handler = (name: string, routeId: number, ms: number) => async () => {
      seen[`${name} first stretch, before routing`] = noted();
      note.routed(routeId);
      await delay(ms);
      seen[`${name} after await`] = noted();
      await helper(name, ms);
    };
    const done: Promise<void>[] = [];
    const start = (tag: RequestTag, run: () => Promise<void>) => note.run(tag, () => void done.push(run()), undefined, undefined);
    start({ id: 7, route: 0 }, handler("a", 2, 30));
    assert.deepEqual(noted(), { route: 0, request: 0 }, "cleared when the first stretch returns");
    start({ id: 8, route: 0 }, handler("b", 5, 10));
    let between: ReturnType<typeof noted> | undefined;
    setTimeout(() => (between = noted()), 15);
    await Promise.all(done);

    assert.deepEqual(seen, {
      "a first stretch, before routing": { route: 0, request: 7 },
      "b first stretch, before routing": { route: 0, request: 8 },
      "b after await": { route: 6, request: 8 },
      "b in helper": { route: 6, request: 8 },
      "a after await": { route: 3, request: 7 },
      "a in helper": { route: 3, request: 7 },
    });
    assert.deepEqual(between, { route: 0, request: 0 }, "a timer no request set runs with no note");
    assert.deepEqual(noted(), { route: 0, request: 0 });
  } finally {
    note.stop();
  }
});

test("once stopped, continuations are no longer noted", async () => {
  const note = noteRunningRequests(slots);
  let after: ReturnType<typeof noted> | undefined;
  let resume!: () => void;
  const paused = new Promise<void>((resolve) => (resume = resolve));
  note.run(
    { id: 3, route: 1 },
    () =>
      void (async () => {
        await paused;
        after = noted();
      })(),
    undefined,
    undefined,
  );
  note.stop();
  resume();
  await delay(5);
  assert.deepEqual(after, { route: 0, request: 0 });
});
