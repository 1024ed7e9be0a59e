// Start-up: every worker imports the app and must see the same routes as the main thread.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { serve } from "loopwise";
import { captureLogs, fixture, request, runCli } from "../helpers.ts";

test("a route table that differs in the workers is a clear startup error", async () => {
  const { app } = await import("../fixtures/mismatch-app.ts");
  const logs = captureLogs();
  await assert.rejects(serve(app, { port: 0, poolSize: 2, logWrite: logs.write }), (error: Error) => {
    assert.equal(error.name, "PoolStartupError");
    assert.match(error.message, /loaded a different app/);
    assert.match(error.message, /"route 1 GET \/main-only worker" in the main thread/);
    assert.match(error.message, /the same way on every import/);
    return true;
  });
  assert.ok(logs.err.some((line) => line.includes("Application startup failed")));
});

test("a module that fails to load in a worker stops the CLI with a message and exit code 1", async () => {
  const result = await runCli(["run", `${fixture("worker-fails-app.ts")}:app`, "--port", "0"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /could not load the app/);
  assert.match(result.stderr, /this module cannot load in a worker/);
});

test("app.listen() serves the app from its own module; workers find it without an export", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", fixture("listen-app.ts")], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const lines: string[] = [];
      createInterface({ input: child.stderr! }).on("line", (line) => {
        lines.push(line);
        if (line.includes('"event":"listening"')) resolve(JSON.parse(line).url);
      });
      child.once("exit", (code) => reject(new Error(`exited ${code}: ${lines.join("\n")}`)));
    });
    assert.notEqual((await request(url + "/worker")).json.threadId, 0);
    assert.equal((await request(url + "/loop")).json.threadId, 0);
  } finally {
    child.kill("SIGTERM");
  }
  const code = await new Promise((resolve) => child.once("exit", resolve));
  assert.equal(code, 0);
});
