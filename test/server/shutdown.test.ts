// Graceful shutdown of `loopwise run` in a child process, with requests in flight on both lanes.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
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
    const messages = server.stderr.map((line) => JSON.parse(line).msg as string);
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
  const messages = server.stderr.map((line) => JSON.parse(line).msg as string);
  assert.ok(messages.some((m) => m.startsWith("Grace period of 300 ms is over with 1 request(s) still running")));
});

describe("onShutdown hooks within the grace period", () => {
  const hooksApp = relative(process.cwd(), fixture("shutdown-hooks-app.ts"));
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "loopwise-hooks-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const stopWith = async (hook: string, grace: string) => {
    const log = join(dir, `${hook}.log`);
    const server = await spawnServer(`${fixture("shutdown-hooks-app.ts")}:app`, ["--pool-size", "1", "--grace-period", grace], {
      SHUTDOWN_HOOK: hook,
      SHUTDOWN_LOG: log,
    });
    const started = Date.now();
    const code = await server.stop("SIGTERM");
    const messages = server.stderr.map((line) => JSON.parse(line).msg as string);
    return { code, tookMs: Date.now() - started, messages, ran: existsSync(log) ? readFileSync(log, "utf8") : "" };
  };

  test("a hook still running when the grace period is over is abandoned by name, and the process exits 1", async () => {
    const { code, tookMs, messages, ran } = await stopWith("slow", "1000");
    assert.equal(code, 1);
    assert.ok(tookMs < 8000, `shutdown took ${tookMs} ms with a 1000 ms grace period`);
    // Each hook is named with the line that registered it.
    assert.ok(
      messages.includes(
        `Grace period of 1000 ms is over with onShutdown hook (misbehaving) registered at ${hooksApp}:10 still running; abandoning it. ` +
          `Not run: onShutdown hook (closeLog) registered at ${hooksApp}:15.`,
      ),
      messages.join("\n"),
    );
    assert.ok(messages.includes("Application shutdown failed."));
    assert.ok(messages.at(-1)!.startsWith("Finished server process"));
    assert.equal(ran, "");
  });

  test("a hook whose promise can never settle is reported as such, at once, not taken for a clean exit", async () => {
    const { code, tookMs, messages } = await stopWith("never", "20000");
    assert.equal(code, 1);
    // Nothing was left to run: the server says so without waiting out the 20 s grace period.
    assert.ok(tookMs < 10_000, `shutdown took ${tookMs} ms`);
    assert.ok(
      messages.some((m) =>
        m.startsWith(`onShutdown hook (misbehaving) registered at ${hooksApp}:10 never settled: its promise was still pending when nothing was left`),
      ),
      messages.join("\n"),
    );
    assert.ok(!messages.includes("Application shutdown complete."));
  });

  test("a hook that throws null: the value is named, the hooks after it still run, the process exits 1", async () => {
    const { code, messages, ran } = await stopWith("null", "3000");
    assert.equal(code, 1);
    assert.ok(
      messages.some((m) => m.includes(`onShutdown hook registered at ${hooksApp}:10 failed: a value that is not an Error: null`)),
      messages.join("\n"),
    );
    assert.equal(ran, "closeLog ran\n");
  });
});
