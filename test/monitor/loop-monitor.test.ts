// The loop monitor over real sockets: who blocked the loop, for how long, who waited.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app } from "../fixtures/monitor-app.ts";
import { captureLogs, fixture, request, spawnServer, until } from "../helpers.ts";

type Warning = {
  event: string;
  level: number;
  msg: string;
  route: string | null;
  culprit: string;
  where: string | null;
  native: boolean;
  blocked_ms: number;
  waited: number;
};

/**
 * The warnings logged so far. Tests look for the one of their own route: on a loaded machine a
 * stall of the whole process is reported too ("outside" any request), and must not be taken for it.
 */
function warningsIn(lines: string[]): Warning[] {
  return lines.map((line) => JSON.parse(line) as Warning).filter((line) => line.event === "loop-blocked");
}

describe("loop monitor", () => {
  let server: RunningServer;
  const logs = captureLogs();
  /** The warning of `route` logged after the first `since`; a timeout names the warnings that came instead. */
  const warningFor = (route: string, since: number) =>
    until(
      () =>
        warningsIn(logs.err)
          .slice(since)
          .find((w) => w.route === route),
      `the warning of ${route}`,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; logged instead: ${JSON.stringify(warningsIn(logs.err).slice(since))}`);
    });
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, logFormat: "json", accessLog: false, logWrite: logs.write });
  });
  after(() => server.close());

  test("a block in a handler's first synchronous stretch names the route, the time and the fix", async () => {
    const blocking = request(server.url + "/block/300");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const waiting = [request(server.url + "/hello"), request(server.url + "/hello")];
    await Promise.all([blocking, ...waiting]);
    const warning = await warningFor("GET /block/:ms", 0);
    assert.equal(warning.level, 40);
    assert.equal(warning.culprit, "request");
    assert.ok(warning.blocked_ms >= 250 && warning.blocked_ms < 2000, `blocked_ms ${warning.blocked_ms}`);
    assert.equal(warning.waited, 2, "both hellos waited for the block");
    assert.match(
      warning.msg,
      // The place, when the watchdog got a look at the stack during the block (a loaded machine may starve it).
      /GET \/block\/:ms blocked the event loop for \d+ ms(?: at .*monitor-app\.ts:\d+)? \(2 requests waited\)\. It is declared async; make it a plain function/,
    );
  });

  test("a block after an await is pinned on the request whose code resumed, not the last one in", async () => {
    const before = warningsIn(logs.err).length;
    const blocking = request(server.url + "/after-await/300");
    await new Promise((resolve) => setTimeout(resolve, 30));
    const inFlight = request(server.url + "/waits"); // arrives after, still in flight during the block
    await Promise.all([blocking, inFlight]);
    const warning = await warningFor("GET /after-await/:ms", before);
    assert.equal(warning.route, "GET /after-await/:ms");
    // The line of the blocking call in the TypeScript source, through tsx's source map.
    const source = readFileSync(fixture("monitor-app.ts"), "utf8").split("\n");
    const line = source.findIndex((text, i) => text.includes("sleepSync") && source[i - 1]!.includes("await delay(100)")) + 1;
    assert.ok(warning.msg.includes(`monitor-app.ts:${line} `), warning.msg);
    assert.ok(warning.waited >= 1, "the request in flight waited");
  });

  test("a block in a dependency after an await is pinned on its route", async () => {
    const before = warningsIn(logs.err).length;
    await request(server.url + "/with-dependency");
    const warning = await warningFor("GET /with-dependency", before);
    assert.equal(warning.route, "GET /with-dependency");
    assert.match(warning.msg, /^GET \/with-dependency blocked the event loop for \d+ ms at .*monitor-app\.ts:\d+ \(slowSession\)/);
  });

  test("routes built by one handler factory share a source location: the request that ran is named", async () => {
    for (const path of ["/users", "/orders"]) {
      const before = warningsIn(logs.err).length;
      await request(`${server.url}${path}?ms=250`);
      const warning = await warningFor(`GET ${path}`, before);
      assert.equal(warning.culprit, "request");
      assert.equal(warning.route, `GET ${path}`);
      assert.equal(warning.native, false);
      assert.match(warning.msg, new RegExp(`^GET ${path} blocked the event loop for \\d+ ms at .*monitor-app\\.ts:\\d+`));
    }
  });

  test("a block in an awaited helper defined outside the handler is pinned on the route that awaits it", async () => {
    const before = warningsIn(logs.err).length;
    await request(server.url + "/report");
    const warning = await warningFor("GET /report", before);
    assert.equal(warning.culprit, "request");
    assert.equal(warning.route, "GET /report");
    assert.equal(warning.native, false);
    assert.match(warning.msg, /^GET \/report blocked the event loop for \d+ ms at .*monitor-app\.ts:\d+ \(buildReport\)/);
  });

  test("a long native call (a synchronous hash) after an await is that request's block, in native code", async () => {
    const before = warningsIn(logs.err).length;
    assert.ok((await request(server.url + "/native")).json.bytes === 32);
    const warning = await warningFor("GET /native", before);
    assert.equal(warning.culprit, "request");
    assert.equal(warning.route, "GET /native");
    assert.equal(warning.native, true);
    assert.match(warning.msg, /^GET \/native blocked the event loop for \d+ ms in native code/);
  });

  test("a plain function forced onto the loop gets advice about its lane option", async () => {
    const before = warningsIn(logs.err).length;
    await request(server.url + "/forced");
    const warning = await warningFor("GET /forced", before);
    assert.equal(warning.route, "GET /forced");
    assert.match(warning.msg, /lane: "loop" option/);
  });

  test("a blocking worker-lane handler does not block the loop: no warning", async () => {
    const before = warningsIn(logs.err).length;
    await request(server.url + "/worker/block");
    await new Promise((resolve) => setTimeout(resolve, 200));
    // A stall of a loaded machine may be reported meanwhile, but never blamed on this route.
    assert.deepEqual(
      warningsIn(logs.err)
        .slice(before)
        .filter((w) => w.route === "GET /worker/block"),
      [],
    );
  });
});

test("a block outside any request (a timer set at startup) is reported as such", async () => {
  const logs = captureLogs();
  // Read by the app's startup hook: set only while this server starts.
  process.env.BACKGROUND_BLOCK_MS = "600";
  const server = await serve(app, { port: 0, poolSize: 1, logFormat: "json", logWrite: logs.write });
  delete process.env.BACKGROUND_BLOCK_MS;
  try {
    const warning = await until(() => warningsIn(logs.err).find((w) => w.culprit === "outside"), "the warning");
    assert.equal(warning.route, null);
    assert.match(warning.msg, /outside any request/);
  } finally {
    await server.close();
  }
});

test("the monitor can be turned off, and its threshold set", async () => {
  const off = captureLogs();
  const quiet = await serve(app, { port: 0, poolSize: 1, logFormat: "json", logWrite: off.write, loopMonitor: false });
  try {
    await request(quiet.url + "/block/300");
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    await quiet.close();
  }
  assert.deepEqual(warningsIn(off.err), []);

  const strict = captureLogs();
  const sensitive = await serve(app, { port: 0, poolSize: 1, logFormat: "json", logWrite: strict.write, loopMonitor: { thresholdMs: 30 } });
  try {
    // Up to three tries: on a loaded machine a stall of the whole process can land on the block
    // and be reported as code outside any request.
    const blockWarning = () => warningsIn(strict.err).find((w) => w.route === "GET /block/:ms");
    for (let attempt = 1; attempt <= 3 && !blockWarning(); attempt++) {
      await request(sensitive.url + "/block/80");
      await until(blockWarning, "the warning at a 30 ms threshold", attempt < 3 ? 2000 : 5000).catch((error) => {
        if (attempt === 3) throw error;
      });
    }
    assert.ok(blockWarning());
  } finally {
    await sensitive.close();
  }
});

test("a block that goes on is reported while it happens, before the request ends", async () => {
  const server = await spawnServer(`${fixture("monitor-app.ts")}:app`, ["--pool-size", "1"]);
  try {
    const reply = request(server.url + "/block/1600");
    const live = await until(
      () => server.stderr.map((line) => JSON.parse(line)).find((line) => line.event === "loop-blocked-now"),
      "the live warning",
    );
    assert.equal(live.route, "GET /block/:ms");
    assert.match(live.msg, /has been blocking the event loop for \d+ ms and still is/);
    assert.equal(server.access.length, 0, "the request had not finished when the live warning came");
    assert.equal((await reply).status, 200);
  } finally {
    await server.stop();
  }
});

test("under a debugger (--inspect) the monitor never pauses the app to look at its stack, and still names the request", async () => {
  const server = await spawnServer(`${fixture("monitor-app.ts")}:app`, ["--pool-size", "1"], { NODE_OPTIONS: "--inspect=127.0.0.1:0" });
  try {
    // A block of 1 s: the watchdog thread must get a core during it, on a loaded machine too, to note whose it is.
    assert.equal((await request(server.url + "/after-await/1000")).status, 200);
    const warning = await until(
      () =>
        server.stderr
          .filter((line) => line.startsWith("{"))
          .map((line) => JSON.parse(line))
          // This block's: a stall of a busy machine while the server starts under the debugger is reported too.
          .find((line) => line.event === "loop-blocked" && line.blocked_ms >= 900),
      "the warning",
    );
    // Named by the main thread's own note of the request that resumed; no look, so no "where".
    assert.equal(warning.culprit, "request");
    assert.equal(warning.route, "GET /after-await/:ms");
    assert.equal(warning.where, null);
  } finally {
    await server.stop();
  }
});
