// The TestClient's failOnBlock: a request whose code blocks the event loop fails the test with
// the loop monitor's message; work off the loop, and short stalls, do not.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { sleepSync } from "loopwise";
import { TestClient } from "loopwise/testing";
import { app } from "../fixtures/monitor-app.ts";
import { app as guardApp } from "../fixtures/guard-app.ts";
import { fixture } from "../helpers.ts";

let client: TestClient;
before(async () => {
  client = await TestClient.start(app, { poolSize: 1, failOnBlock: 100 });
});
after(() => client.close());

/** The line of the monitor app's blocking call in `route`'s handler. */
function blockingLine(route: string): number {
  const source = readFileSync(fixture("monitor-app.ts"), "utf8").split("\n");
  const handler = source.findIndex((line) => line.includes(`app.get("${route}"`));
  return source.findIndex((line, i) => i > handler && line.includes("sleepSync(")) + 1;
}

const blocked = (pattern: RegExp) => (error: Error & { blocks?: string[] }) => {
  assert.equal(error.name, "LoopBlockedError");
  assert.match(error.message, /^failOnBlock \(100 ms\): /);
  assert.equal(error.blocks?.length, 1);
  assert.match(error.message, pattern);
  return true;
};

test("a blocking async handler fails its request with the monitor's message: route, place, fix", async () => {
  await assert.rejects(
    client.get("/block/300"),
    blocked(
      new RegExp(
        `GET /block/:ms blocked the event loop for \\d+ ms at .*monitor-app\\.ts:${blockingLine("/block/:ms")} .*It is declared async; make it a plain function`,
      ),
    ),
  );
});

test("so does a block after an await, and a plain handler forced onto the loop, with its own advice", async () => {
  await assert.rejects(
    client.get("/after-await/300"),
    blocked(new RegExp(`GET /after-await/:ms blocked the event loop .*monitor-app\\.ts:${blockingLine("/after-await/:ms")} `)),
  );
  await assert.rejects(client.get("/forced"), blocked(/GET \/forced blocked the event loop .*remove that option/));
});

test("a block right after other code held the loop (no heartbeat between) is still its request's", async () => {
  // The test's own code holds the loop first, outside any request; the request starts in the same turn.
  sleepSync(200);
  await assert.rejects(client.get("/block/300"), blocked(/GET \/block\/:ms blocked the event loop for \d+ ms/));
});

test("no failure for a plain handler blocking its worker, a short stall, or a fast route", async () => {
  assert.equal((await client.get("/worker/block")).status, 200);
  assert.equal((await client.get("/block/5")).status, 200);
  assert.equal((await client.get("/hello")).status, 200);
});

test("only the request that blocked fails: one in flight beside it is answered", async () => {
  const [blocker, waiter] = await Promise.allSettled([client.get("/block/300"), client.get("/waits")]);
  assert.equal(blocker.status, "rejected");
  assert.equal(waiter.status, "fulfilled");
  assert.equal((waiter as PromiseFulfilledResult<{ status: number }>).value.status, 200);
});

test("without failOnBlock a blocking handler is answered as usual, and fails no other client (this file's closes cleanly)", async () => {
  const plain = await TestClient.start(app, { poolSize: 1 });
  try {
    assert.equal((await plain.get("/block/150")).status, 200);
  } finally {
    await plain.close();
  }
});

test("a block no request can claim (a WebSocket session's) fails close()", async () => {
  const guarded = await TestClient.start(guardApp, { poolSize: 1, failOnBlock: 100 });
  const ws = await guarded.websocket("/ws/block");
  ws.send("go");
  await ws.closed;
  assert.equal((await guarded.get("/hello")).status, 200);
  await assert.rejects(guarded.close(), blocked(/WEBSOCKET \/ws\/block blocked the event loop .*guard-app\.ts:8/));
});

test("failOnBlock must be a positive number of ms", async () => {
  await assert.rejects(TestClient.start(app, { failOnBlock: 0 }), /failOnBlock must be a positive number of ms, got 0/);
});
