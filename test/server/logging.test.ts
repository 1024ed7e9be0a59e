// Log levels, pino's line format, and req.log on both lanes reaching the server's log.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { prettyFactory } from "pino-pretty";
import { serve, type RunningServer } from "loopwise";
import { app } from "../fixtures/logging-app.ts";
import { captureLogs, request, runCli, until } from "../helpers.ts";

const parsed = (lines: string[]) => lines.map((line) => JSON.parse(line) as Record<string, any>);

describe("logging at debug, as JSON lines", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, logFormat: "json", logLevel: "debug", logWrite: logs.write });
  });
  after(() => server.close());

  const appLines = () => parsed(logs.err).filter((line) => line.event === undefined);

  test("req.log on the loop carries the request id, route and lane; debug is written at debug", async () => {
    const reply = await request(`${server.url}/log/loop`, { headers: { "x-request-id": "req-loop-1" } });
    assert.equal(reply.status, 200);
    await until(() => appLines().some((line) => line.msg === "loop detail"));
    const line = appLines().find((l) => l.msg === "loop line")!;
    assert.equal(line.level, 30);
    assert.equal(typeof line.time, "number");
    assert.equal(line.pid, process.pid);
    assert.deepEqual([line.request_id, line.route, line.lane, line.user], ["req-loop-1", "GET /log/loop", "loop", 7]);
    assert.equal(appLines().find((l) => l.msg === "loop detail")!.level, 20);
  });

  test("a pooled dependency's lines come from a worker, with its id and the route", async () => {
    await request(`${server.url}/log/loop`, { headers: { "x-request-id": "req-dep-1" } });
    await until(() => appLines().some((line) => line.msg === "dependency ran" && line.request_id === "req-dep-1"));
    const line = appLines().find((l) => l.msg === "dependency ran" && l.request_id === "req-dep-1")!;
    assert.equal(line.route, "GET /log/loop");
    assert.equal(line.lane, "worker");
    assert.ok([1, 2].includes(line.worker), `worker id ${line.worker}`);
  });

  test("a worker-lane handler's lines reach the same sink with the worker's id; trace is below debug", async () => {
    await request(`${server.url}/log/worker/9`, { headers: { "x-request-id": "req-worker-1" } });
    await until(() => appLines().some((line) => line.msg === "worker line"));
    const line = appLines().find((l) => l.msg === "worker line")!;
    assert.deepEqual([line.request_id, line.route, line.lane, line.id], ["req-worker-1", "GET /log/worker/:id", "worker", "9"]);
    assert.ok([1, 2].includes(line.worker));
    assert.ok(!appLines().some((l) => l.msg === "worker trace"));
  });

  test("fields that cannot cross or be written as JSON never fail the request; the line still says what it can", async () => {
    for (const path of ["/log/hostile", "/log/hostile-loop"]) assert.equal((await request(server.url + path)).status, 200);
    await until(() => appLines().filter((line) => /hostile fields/.test(line.msg)).length === 2 && appLines().some((l) => l.msg === "kept as err"));
    const fromWorker = appLines().find((l) => l.msg === "hostile fields from a worker")!;
    assert.equal(fromWorker.level, 40);
    assert.equal(fromWorker.big, "10");
    assert.equal(fromWorker.route, "GET /log/hostile");
    const onLoop = appLines().find((l) => l.msg === "hostile fields on the loop")!;
    assert.equal(onLoop.big, "10");
    assert.match(onLoop.cycle, /^\[not written: .*circular/i);
    assert.equal(onLoop.route, "GET /log/hostile-loop");
    const error = appLines().find((l) => l.msg === "kept as err")!;
    assert.deepEqual([error.level, error.err.type, error.err.message], [50, "Error", "kept as err"]);
    assert.match(error.err.stack, /logging-app\.ts/);
    assert.ok(
      appLines().some((l) => l.msg === "42" && l.route === "GET /log/hostile"),
      "a number is written as its text",
    );
  });

  test("the log outside a request has no request fields", async () => {
    await request(`${server.url}/log/outside`);
    await until(() => appLines().some((line) => line.msg === "no request bound"));
    const line = appLines().find((l) => l.msg === "no request bound")!;
    assert.deepEqual([line.request_id, line.route, line.lane], [undefined, undefined, undefined]);
  });

  test("pino-pretty reads every line the server wrote: startup, access and the app's", () => {
    const pretty = prettyFactory({ colorize: false });
    const startup = pretty(logs.err.find((line) => JSON.parse(line).event === "listening")!);
    assert.match(startup, /INFO.*Loopwise running on http:\/\/127\.0\.0\.1:\d+/);
    const access = pretty(logs.out.find((line) => JSON.parse(line).path === "/log/worker/9")!);
    assert.match(access, /INFO.*GET \/log\/worker\/9 200/);
    const warn = pretty(logs.err.find((line) => JSON.parse(line).msg === "hostile fields from a worker")!);
    assert.match(warn, /WARN.*hostile fields from a worker/);
    assert.match(warn, /route: "GET \/log\/hostile"/);
  });
});

describe("logging at warning, as text", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 1, logLevel: "warning", logWrite: logs.write });
  });
  after(() => server.close());

  test("nothing below the level: no startup lines, no access lines, no info from the app; warnings pass", async () => {
    await request(`${server.url}/log/loop`);
    await request(`${server.url}/log/worker/1`);
    await request(`${server.url}/log/hostile`);
    await until(() => logs.err.some((line) => line.includes("hostile fields from a worker")));
    assert.deepEqual(logs.out, []);
    assert.ok(!logs.err.some((line) => / INFO | DEBUG /.test(line)), logs.err.join("\n"));
    const warning = logs.err.find((line) => line.includes("hostile fields from a worker"))!;
    assert.match(warning, /^\S+Z WARNING hostile fields from a worker .*route="GET \/log\/hostile" lane=worker .*worker=1$/);
    // A newline in a message is escaped: it cannot forge a line of its own.
    assert.ok(logs.err.some((line) => line.includes("WARNING forged?\\n2026-01-01T00:00:00.000Z ERROR a line the client wrote")));
    assert.ok(!logs.err.some((line) => line.startsWith("2026-01-01")));
  });
});

test("a level that is not one is refused, naming the levels", async () => {
  await assert.rejects(
    serve(app, { port: 0, logLevel: "loud" as "info" }),
    /log level must be one of critical, error, warning, info, debug, trace, got "loud"/,
  );
  const cli = await runCli(["run", "x:app", "--log-level", "verbose"]);
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /--log-level must be critical or error or warning or info or debug or trace, got "verbose"/);
});
