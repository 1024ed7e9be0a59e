// An error no request owns (a stray timer's throw, an unawaited rejection) is logged as one
// ERROR line with its stack, and the server keeps serving, when the server owns its process.
import assert from "node:assert/strict";
import { test } from "node:test";
import { serve } from "loopwise";
import { app } from "../fixtures/stray-app.ts";
import { captureLogs, delay, fixture, request, spawnServer } from "../helpers.ts";

test("the CLI's server logs stray errors and keeps serving", async () => {
  const server = await spawnServer(fixture("stray-app.ts"), ["--pool-size", "1"]);
  try {
    for (const path of ["/stray/timer", "/stray/rejection", "/stray/odd-rejection"]) {
      assert.equal((await request(server.url + path)).status, 200, path);
    }
    await delay(200);
    assert.deepEqual((await request(server.url + "/hello")).json, { message: "hello" });
    const strays = server.stderr.flatMap((line) => {
      const parsed = JSON.parse(line);
      return parsed.event === "stray-error" ? [parsed] : [];
    });
    // Sorted: the timer may fire before or after the next request's rejection.
    assert.deepEqual(
      strays.map((line) => [line.level, line.kind, line.error]).sort((a, b) => a[2].localeCompare(b[2])),
      [
        [50, "unhandled promise rejection", "a promise nobody awaited"],
        [50, "uncaught exception", "a stray timer threw"],
        [50, "unhandled promise rejection", "a value that is not an Error: [Object: null prototype] { odd: true }"],
      ],
    );
    const timer = strays.find((line) => line.kind === "uncaught exception");
    assert.match(timer.stack, /stray-app\.ts/);
    assert.match(timer.msg, /^An uncaught exception outside any request \(the server keeps serving\):\nError: a stray timer threw\n\s+at /);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("serve() installs the policy only when it owns the process, and close() removes it", async () => {
  const before = [process.listenerCount("unhandledRejection"), process.listenerCount("uncaughtException")];
  const logs = captureLogs();
  const embedded = await serve(app, { port: 0, poolSize: 1, logWrite: logs.write, loopMonitor: false });
  assert.deepEqual([process.listenerCount("unhandledRejection"), process.listenerCount("uncaughtException")], before);
  await embedded.close();
  const owning = await serve(app, { port: 0, poolSize: 1, logWrite: logs.write, loopMonitor: false, containStrayErrors: true });
  assert.deepEqual(
    [process.listenerCount("unhandledRejection"), process.listenerCount("uncaughtException")],
    before.map((n) => n + 1),
  );
  await owning.close();
  assert.deepEqual([process.listenerCount("unhandledRejection"), process.listenerCount("uncaughtException")], before);
});
