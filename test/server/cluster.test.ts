// --workers N: several server processes on one port, each with its own pool, stopped together.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fixture, request, spawnServer } from "../helpers.ts";

test("--workers 2 serves from two processes on one port and drains both on SIGTERM", async () => {
  const server = await spawnServer(`${fixture("pid-app.ts")}:app`, ["--workers", "2", "--pool-size", "1"]);
  try {
    // Both children must be listening before connections are spread over them.
    const deadline = Date.now() + 20_000;
    while (server.stderr.filter((line) => line.includes('"event":"listening"')).length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const pids = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const [loop, worker] = await Promise.all([request(server.url + "/pid"), request(server.url + "/worker/pid")]);
      assert.equal(loop.status, 200);
      assert.equal(worker.status, 200);
      pids.add(loop.json.pid).add(worker.json.pid);
    }
    assert.equal(pids.size, 2, "two server processes answered");
    assert.ok(!pids.has(server.child.pid!), "the parent serves nothing itself");
  } finally {
    assert.equal(await server.stop("SIGTERM"), 0);
  }
  const messages = server.stderr.map((line) => JSON.parse(line).msg as string);
  assert.ok(messages.some((m) => /Started parent process \[\d+\], forking 2 server processes/.test(m)));
  assert.equal(messages.filter((m) => m.startsWith("Finished server process")).length, 2);
  assert.match(messages.at(-1)!, /Stopping parent process/);
});

test("--workers with an app that cannot start stops with exit code 1 instead of forking forever", async () => {
  await assert.rejects(
    spawnServer(`${fixture("worker-fails-app.ts")}:app`, ["--workers", "2", "--pool-size", "1"]),
    /exited with 1 before listening/,
  );
});
