// The seed experiment over real sockets against `loopwise run examples/seed/main.ts:app`.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { delay, request, seedApp, spawnServer, type ChildServer, type Reply } from "./helpers.ts";

const sleepMs = 1000;

/** Sends each path on its own connection, 50 ms apart, like the seed's three browser tabs. */
async function sendSpaced(url: string, paths: string[]): Promise<{ path: string; sentAt: number; reply: Reply }[]> {
  return Promise.all(
    paths.map(async (path, i) => {
      await delay(i * 50);
      const sentAt = Date.now();
      return { path, sentAt, reply: await request(url + path) };
    }),
  );
}

describe("the seed app", () => {
  let server: ChildServer;
  before(async () => {
    server = await spawnServer(`${seedApp}:app`, ["--pool-size", "4"], { SLEEP_MS: String(sleepMs) });
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  test("Test 1: a sleeping plain handler leaves both hellos alone", async () => {
    const [sleep, asyncHello, syncHello] = await sendSpaced(server.url, ["/sync/sleep", "/async/hello", "/sync/hello"]);
    for (const r of [sleep!, asyncHello!, syncHello!]) assert.equal(r.reply.status, 200);
    assert.deepEqual(asyncHello!.reply.json, { message: "hello" });
    assert.deepEqual(sleep!.reply.json, { message: `slept for ${sleepMs} ms` });
    // Both hellos answer long before the sleep ends; the sleep takes its full time.
    assert.ok(asyncHello!.reply.doneAt < sleep!.reply.doneAt);
    assert.ok(syncHello!.reply.doneAt < sleep!.reply.doneAt);
    assert.ok(asyncHello!.reply.doneAt - asyncHello!.sentAt < sleepMs / 2, "async hello waited for the sleep");
    assert.ok(syncHello!.reply.doneAt - syncHello!.sentAt < sleepMs / 2, "sync hello waited for the sleep");
    assert.ok(sleep!.reply.doneAt - sleep!.sentAt >= sleepMs - 20);
  });

  test("Test 2: a sleeping async handler holds back both hellos, the sync one too", async () => {
    const [sleep, asyncHello, syncHello] = await sendSpaced(server.url, ["/async/sleep", "/async/hello", "/sync/hello"]);
    for (const r of [sleep!, asyncHello!, syncHello!]) assert.equal(r.reply.status, 200);
    // Nothing comes back until the loop is free again.
    assert.ok(asyncHello!.reply.doneAt >= sleep!.reply.doneAt - 20, "async hello was answered during the block");
    assert.ok(syncHello!.reply.doneAt >= sleep!.reply.doneAt - 20, "sync hello was answered during the block");
    assert.ok(syncHello!.reply.doneAt - syncHello!.sentAt >= sleepMs - 200);
  });

  test("the access log names each request's lane", async () => {
    await delay(50); // the log is flushed once per tick
    const lanes = new Map(server.access.map((line) => [line.path, line.lane as string]));
    assert.equal(lanes.get("/async/sleep"), "loop");
    assert.equal(lanes.get("/async/hello"), "loop");
    assert.match(lanes.get("/sync/sleep")!, /^worker#\d$/);
    assert.match(lanes.get("/sync/hello")!, /^worker#\d$/);
    const sleepLine = server.access.find((line) => line.path === "/sync/sleep")!;
    assert.ok(sleepLine.duration_ms >= sleepMs - 5);
    assert.equal(typeof sleepLine.queued_ms, "number");
  });
});
