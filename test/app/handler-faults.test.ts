// Nothing a handler or an exception handler throws, rejects with or returns may take the server
// down: every fault, on every path from handler to socket, is that request's 500, and the log
// says what was thrown.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app, faults, handlerFaults, variants } from "../fixtures/faults-app.ts";
import { captureLogs } from "../helpers.ts";

// Errors the pipeline let escape: before the fix, each one would have ended the process.
const escaped: unknown[] = [];
process.on("unhandledRejection", (reason) => escaped.push(reason));
process.on("uncaughtException", (error) => escaped.push(error));

/** The status and body a request got, or the reason it got none within 10 s. */
async function fetchOutcome(url: string, init: RequestInit = {}): Promise<{ status: number; statusText: string; body: string } | string> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    return { status: response.status, statusText: response.statusText, body: await response.text() };
  } catch (error) {
    return `no response: ${(error as Error).message}`;
  }
}

describe("handler faults", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, logWrite: logs.write, logFormat: "json", accessLog: false, loopMonitor: false });
  });
  after(() => server.close());

  /** The handler-error log lines for a path. */
  const loggedFor = async (path: string) => {
    await new Promise((resolve) => setImmediate(resolve));
    return logs.err.map((line) => JSON.parse(line)).filter((line) => line.event === "handler-error" && line.path === path);
  };

  for (const variant of variants) {
    test(`every fault on the ${variant} path is a 500 that the log explains`, async () => {
      const body = variant.endsWith("-body") ? { method: "POST", headers: { "content-type": "application/json" }, body: '{"a":1}' } : {};
      const paths = Object.keys(faults).map((name) => `/${variant}/${name}?a=1`);
      const outcomes = await Promise.all(paths.map((path) => fetchOutcome(server.url + path, body)));
      for (const [i, path] of paths.entries()) {
        assert.deepEqual(outcomes[i], { status: 500, statusText: "Internal Server Error", body: '{"detail":"Internal Server Error"}' }, path);
        const lines = await loggedFor(path);
        assert.equal(lines.length, 1, `${path}: one ERROR line`);
        assert.match(lines[0].error, Object.values(faults)[i]!.logged, path);
      }
      assert.deepEqual(escaped, []);
    });
  }

  test("an exception handler that throws odd values or answers what cannot be sent gives a 500, on either lane", async () => {
    for (const prefix of ["/loop", "/worker", "/loop-deps"]) {
      const paths = Object.keys(handlerFaults).map((kind) => `${prefix}/handler-fault/${kind}`);
      const outcomes = await Promise.all(paths.map((path) => fetchOutcome(server.url + path)));
      for (const [i, path] of paths.entries()) {
        assert.deepEqual(outcomes[i], { status: 500, statusText: "Internal Server Error", body: '{"detail":"Internal Server Error"}' }, path);
        const lines = await loggedFor(path);
        assert.equal(lines.length, 1, `${path}: one ERROR line`);
        assert.match(lines[0].error, Object.values(handlerFaults)[i]!.logged, path);
      }
    }
    assert.deepEqual(escaped, []);
  });

  test("the server still serves after all of it", async () => {
    assert.deepEqual(await fetchOutcome(server.url + "/ok"), { status: 200, statusText: "OK", body: '{"ok":true}' });
    assert.deepEqual(escaped, []);
  });
});
