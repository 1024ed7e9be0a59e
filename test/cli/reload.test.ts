// --reload: a change to the app's source starts a fresh server on the same port.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { fixture, request, runCli, spawnServer } from "../helpers.ts";

/** A port nothing listens on now, so the restarted server can take the same one. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

test("--reload restarts the server when a source file changes, and stops cleanly", async () => {
  // A copy of an app inside the package (so `import "loopwise"` resolves), edited by the test.
  const folder = fileURLToPath(new URL("../../test-artifacts/reload-app/", import.meta.url));
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  const source = readFileSync(fixture("pid-app.ts"), "utf8");
  writeFileSync(`${folder}main.ts`, source);

  const port = await freePort();
  // spawnServer asks for port 0; the later --port wins, so the restarted server keeps its address.
  const server = await spawnServer(`${folder}main.ts:app`, ["--reload", "--pool-size", "1", "--port", String(port)]);
  try {
    const first = await request(server.url + "/worker/pid");
    assert.equal(first.json.version, 1);

    writeFileSync(`${folder}main.ts`, source.replace("?? 1)", "?? 2)"));
    const deadline = Date.now() + 20_000;
    let reply = first;
    while (Date.now() < deadline) {
      reply = await request(server.url + "/worker/pid").catch(() => first);
      if (reply.json?.version === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(reply.json.version, 2, "the edited app answers");
    assert.notEqual(reply.json.pid, first.json.pid, "from a new process");
    assert.ok(server.stderr.some((line) => line.includes("Detected a change in 'main.ts'")));
  } finally {
    assert.equal(await server.stop("SIGTERM"), 0);
    rmSync(folder, { recursive: true, force: true });
  }
});

test("--reload and --workers together are a usage error", async () => {
  const result = await runCli(["run", `${fixture("pid-app.ts")}:app`, "--reload", "--workers", "2"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--reload and --workers cannot be used together/);
});
