// What a deployment reaches for: liveness and readiness probes, uvicorn's --limit-concurrency,
// --limit-max-requests (alone and with --workers), --timeout-keep-alive, --backlog and --header.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app } from "../fixtures/lanes-app.ts";
import { openSocket } from "./websocket-client.ts";
import { captureLogs, delay, fixture, request, runCli, spawnServer, statusOf, until } from "../helpers.ts";

describe("probes, the concurrency limit and extra headers", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, {
      port: 0,
      poolSize: 1,
      logFormat: "json",
      logWrite: logs.write,
      probes: true,
      limitConcurrency: 3,
      headers: ["server: loopwise-test", ["x-served-by", "operations"]],
    });
  });
  after(() => server.close());

  test("liveness and readiness answer 200 with their state; other methods 405; HEAD has no body; never cached", async () => {
    const live = await request(`${server.url}/livez`);
    assert.deepEqual([live.status, live.json, live.headers["cache-control"]], [200, { status: "alive" }, "no-store"]);
    const ready = await request(`${server.url}/readyz?verbose=1`);
    assert.deepEqual([ready.status, ready.json], [200, { status: "ready" }]);
    const posted = await request(`${server.url}/readyz`, { method: "POST" });
    assert.deepEqual([posted.status, posted.headers.allow], [405, "GET, HEAD"]);
    const head = await request(`${server.url}/readyz`, { method: "HEAD" });
    assert.deepEqual([head.status, head.text], [200, ""]);
  });

  test("--header adds to every response, the route's own header winning", async () => {
    const reply = await request(`${server.url}/loop/where`);
    assert.deepEqual([reply.headers.server, reply.headers["x-served-by"]], ["loopwise-test", "operations"]);
    const refused = await request(`${server.url}/nowhere`);
    assert.equal(refused.headers["x-served-by"], "operations");
  });

  test("past the concurrency limit, on either lane, a 503 with Retry-After at once; the ones in flight finish", async () => {
    const slow = [0, 1, 2].map((i) => request(`${server.url}/${i === 0 ? "worker" : "loop"}/sleep/300`));
    await until(async () => (await request(`${server.url}/loop/where`)).status === 503, "the limit to be reached");
    const started = Date.now();
    const refused = await request(`${server.url}/worker/where`);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers["retry-after"], "1");
    assert.match(refused.json.detail, /more than 3 requests in flight/);
    assert.ok(Date.now() - started < 250, "refused without waiting");
    assert.deepEqual(
      (await Promise.all(slow)).map((r) => r.status),
      [200, 200, 200],
    );
    assert.equal((await request(`${server.url}/worker/where`)).status, 200);
    await until(() => logs.out.some((line) => JSON.parse(line).status === 503), "the refusal's access line");
  });
});

test("draining after SIGTERM: a new probe finds the port closed (not ready) while the request in flight finishes", async () => {
  const server = await serve(app, { port: 0, poolSize: 1, probes: { live: "/health/live", ready: "/health/ready" }, logWrite: () => {} });
  assert.equal((await request(`${server.url}/health/ready`)).status, 200);
  const inFlight = request(`${server.url}/loop/sleep/300`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const closed = server.close("SIGTERM");
  await assert.rejects(request(`${server.url}/health/ready`), /ECONNREFUSED/);
  assert.equal((await inFlight).status, 200);
  assert.equal(await closed, true);
});

test("probe options are checked: paths of their own, starting with /", async () => {
  await assert.rejects(serve(app, { port: 0, probes: { live: "/same", ready: "/same" } }), /need paths of their own/);
  await assert.rejects(serve(app, { port: 0, probes: { live: "health" } }), /must start with "\/"/);
  await assert.rejects(serve(app, { port: 0, headers: ["no colon here"] }), /header must be "name:value"/);
  await assert.rejects(serve(app, { port: 0, headers: [["x-bad", "line\r\nbreak"]] }), /cannot be sent/);
  await assert.rejects(serve(app, { port: 0, limitConcurrency: 0 }), /limitConcurrency must be a positive whole number/);
});

test("--limit-max-requests alone: the process drains and exits 0 after its limit (and up to 10% more)", async () => {
  const server = await spawnServer(`${fixture("pid-app.ts")}:app`, ["--limit-max-requests", "5", "--pool-size", "1"]);
  let answered = 0;
  for (let i = 0; i < 20 && server.child.exitCode === null; i++) {
    const reply = await request(`${server.url}/pid`).catch(() => undefined);
    if (reply?.status === 200) answered++;
    else break;
  }
  assert.equal(await server.exited, 0);
  assert.ok(answered >= 5 && answered <= 6, `answered ${answered}`);
  assert.ok(server.stderr.some((line) => JSON.parse(line).msg === `Maximum request limit of ${answered} exceeded. Terminating process.`));
});

test("--limit-max-requests with --workers: each child is replaced once past its limit, and no request fails", async () => {
  const server = await spawnServer(`${fixture("pid-app.ts")}:app`, ["--workers", "2", "--limit-max-requests", "10", "--pool-size", "1"]);
  try {
    const pids = new Set<number>();
    // Bounded: until both first children have been replaced (a replacement takes about a second to start).
    const deadline = Date.now() + 20_000;
    for (let i = 0; i < 1000 && pids.size < 4 && Date.now() < deadline; i++) {
      const reply = await request(`${server.url}/pid`);
      assert.equal(reply.status, 200, `request ${i}: ${reply.text}`);
      pids.add(reply.json.pid);
      await delay(10);
    }
    assert.ok(pids.size >= 4, `answered by ${pids.size} processes`);
    await until(() => server.stderr.some((line) => /reached its request limit; starting its replacement/.test(JSON.parse(line).msg)));
    assert.ok(!server.stderr.some((line) => /died|could not start/.test(JSON.parse(line).msg ?? "")), server.stderr.join("\n"));
  } finally {
    assert.equal(await server.stop(), 0, server.stderr.join("\n"));
  }
});

test("--timeout-keep-alive closes an idle connection after its seconds; --backlog and --header are taken", async () => {
  const server = await spawnServer(`${fixture("pid-app.ts")}:app`, ["--timeout-keep-alive", "1", "--backlog", "64", "--header", "X-Deployed: blue"]);
  try {
    const closedAfter = await new Promise<{ ms: number; data: string }>((resolve) => {
      let data = "";
      let answeredAt = 0;
      const socket = connect(Number(new URL(server.url).port), "127.0.0.1", () => socket.write("GET /pid HTTP/1.1\r\nHost: x\r\n\r\n"));
      socket.on("data", (chunk) => {
        data += chunk;
        answeredAt ||= Date.now();
      });
      socket.on("close", () => resolve({ ms: Date.now() - answeredAt, data }));
    });
    assert.equal(statusOf(closedAfter.data), 200);
    assert.match(closedAfter.data, /x-deployed: blue/i);
    assert.ok(closedAfter.ms >= 800 && closedAfter.ms < 4000, `closed ${closedAfter.ms} ms after the answer`);
  } finally {
    await server.stop();
  }
  const bad = await runCli(["run", `${fixture("pid-app.ts")}:app`, "--port", "0", "--header", "nocolon"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /header must be "name:value"/);
});

test("--limit-concurrency counts open WebSocket sessions, and refuses a handshake past it with a 503", async () => {
  const { app: wsApp } = await import("../fixtures/websocket-app.ts");
  const server = await serve(wsApp, { port: 0, poolSize: 1, limitConcurrency: 1, logWrite: () => {} });
  try {
    const wsUrl = server.url.replace("http", "ws");
    const first = await openSocket(`${wsUrl}/ws/echo`);
    await assert.rejects(openSocket(`${wsUrl}/ws/echo`), (error: { status?: number; headers?: Record<string, string> }) => {
      assert.deepEqual([error.status, error.headers?.["retry-after"]], [503, "1"]);
      return true;
    });
    assert.equal((await request(`${server.url}/nothing`)).status, 503, "the open session counts for HTTP requests too");
    first.ws.close();
    await first.closed;
    await until(async () => (await request(`${server.url}/nothing`)).status === 404, "the session's place to be free again");
  } finally {
    await server.close();
  }
});
