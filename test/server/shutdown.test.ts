// Graceful shutdown of `loopwise run` in a child process, with requests in flight on both lanes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { delay, fixture, request, spawnServer } from "../helpers.ts";

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  test(`${signal} finishes the in-flight requests on both lanes, then exits 0`, async () => {
    const server = await spawnServer(`${fixture("lanes-app.ts")}:app`, ["--pool-size", "2"]);
    const loop = request(server.url + "/loop/sleep/600");
    const worker = request(server.url + "/worker/sleep/600");
    await delay(150);
    const exit = server.stop(signal);
    const [loopReply, workerReply] = await Promise.all([loop, worker]);
    assert.equal(loopReply.status, 200);
    assert.equal(workerReply.status, 200);
    assert.deepEqual(loopReply.json.slept, 600);
    assert.deepEqual(workerReply.json.slept, 600);
    assert.equal(await exit, 0);
    const messages = server.stderr.map((line) => JSON.parse(line).message as string);
    assert.ok(messages.includes(`Shutting down (${signal})`));
    assert.ok(messages.includes("Waiting for 2 in-flight requests to finish."));
    assert.ok(messages.at(-1)!.startsWith("Finished server process"));
    // New connections are refused once shutdown has begun.
    await assert.rejects(request(server.url + "/loop/where"));
  });
}

test("past the grace period, shutdown closes what is left and exits 1 with a log line", async () => {
  const server = await spawnServer(`${fixture("lanes-app.ts")}:app`, ["--pool-size", "1", "--grace-period", "300"]);
  const stuck = request(server.url + "/worker/sleep/5000").then(
    (reply) => reply.status,
    () => "closed",
  );
  await delay(150);
  const started = Date.now();
  assert.equal(await server.stop("SIGTERM"), 1);
  assert.ok(Date.now() - started < 4000, "shutdown waited for the stuck request");
  assert.equal(await stuck, "closed");
  const messages = server.stderr.map((line) => JSON.parse(line).message as string);
  assert.ok(messages.some((m) => m.startsWith("Grace period of 300 ms is over with 1 request(s) still running")));
});
