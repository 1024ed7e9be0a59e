// A route measured to be quick, or never seen, does not wait behind slow work queued before it
// (FastAPI's /sync/hello behind forty sleepers): it takes the next free worker.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app } from "../fixtures/reliability-app.ts";
import { captureLogs, delay, request } from "../helpers.ts";

let server: RunningServer;
before(async () => {
  server = await serve(app, { port: 0, poolSize: 1, maxPoolSize: 1, logWrite: captureLogs().write });
});
after(() => server.close());

/** Three 400 ms sleepers on the one worker, then `path` 100 ms later: when each was answered, from the start. */
async function behindSleepers(path: string): Promise<{ answeredAt: number; lastSleeperAt: number }> {
  const started = Date.now();
  const sleepers = [0, 1, 2].map(() => request(`${server.url}/worker/sleep/400`));
  await delay(100);
  const answer = await request(`${server.url}${path}`);
  const done = await Promise.all(sleepers);
  assert.equal(answer.status, 200);
  assert.ok(done.every((r) => r.status === 200));
  return { answeredAt: answer.doneAt - started, lastSleeperAt: Math.max(...done.map((r) => r.doneAt)) - started };
}

test("a quick plain route goes ahead of slower work that waits, and delays it by next to nothing", async () => {
  // Measured a few times first.
  for (let i = 0; i < 12; i++) assert.equal((await request(`${server.url}/worker/hello`)).status, 200);
  const { answeredAt, lastSleeperAt } = await behindSleepers("/worker/hello");
  // FIFO would answer it after all three sleepers (~1.2 s); it comes after the first.
  assert.ok(answeredAt < lastSleeperAt - 250, `hello at ${answeredAt} ms, last sleeper at ${lastSleeperAt} ms`);
});

test("a route never seen goes ahead of sleepers seen to be slow", async () => {
  // /worker/medium has never run on this server; the sleepers are seen running long by then.
  const { answeredAt, lastSleeperAt } = await behindSleepers("/worker/medium");
  assert.ok(answeredAt < lastSleeperAt - 250, `the new route at ${answeredAt} ms, last sleeper at ${lastSleeperAt} ms`);
});
