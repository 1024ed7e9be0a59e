// Lifespan hooks: startup and shutdown on the main thread, a start hook in every worker.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fixture, request, spawnServer } from "../helpers.ts";

test("startup, per-worker start and shutdown hooks run in order, each where it belongs", async () => {
  const log = join(mkdtempSync(join(tmpdir(), "loopwise-")), "lifespan.log");
  const server = await spawnServer(`${fixture("lifespan-app.ts")}:app`, ["--pool-size", "2"], { LIFESPAN_LOG: log });
  const reply = await request(server.url + "/connection");
  assert.ok(reply.json.slot === 1 || reply.json.slot === 2, "the handler did not see its worker's connection");
  assert.notEqual(reply.json.threadId, 0);
  assert.equal(await server.stop("SIGTERM"), 0);

  const lines = readFileSync(log, "utf8").trim().split("\n");
  const workerStarts = lines.filter((l) => l.startsWith("worker-start"));
  assert.equal(workerStarts.length, 2);
  assert.ok(workerStarts.every((l) => !l.endsWith("thread=0")));
  // Startup hooks run first (FastAPI's order), then the workers start; shutdown comes last, on the main thread.
  assert.equal(lines[0], "startup thread=0");
  assert.equal(lines.at(-1), "shutdown thread=0");
  const messages = server.stderr.map((l) => JSON.parse(l).msg);
  assert.ok(messages.indexOf("Waiting for application shutdown.") < messages.indexOf("Application shutdown complete."));
});
