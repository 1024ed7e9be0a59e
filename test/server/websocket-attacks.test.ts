// WebSocket routes under attack, over real sockets: floods of messages, huge frames, clients
// that vanish without a close frame or stop answering pings, hundreds of sockets at once, and
// shutdown with sessions open and handshakes under way.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app, journal } from "../fixtures/websocket-app.ts";
import { captureLogs, delay, request, until } from "../helpers.ts";
import { clientFrame, closeCodeIn, handshake, openSocket, rawExchange } from "./websocket-client.ts";

describe("floods and huge frames", () => {
  const logs = captureLogs();
  let server: RunningServer;
  let ws: string;
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 1, logFormat: "json", logWrite: logs.write });
    ws = server.url.replace("http:", "ws:");
  });
  after(() => server.close());

  test("a handler that does not read stops reading the socket: the flood waits in TCP, not in the server's memory", async () => {
    const count = 1000;
    const lazy = await openSocket(`${ws}/ws/lazy-reader?wait=600&expect=${count}`);
    const chunk = "x".repeat(16 * 1024);
    for (let i = 0; i < count; i++) lazy.ws.send(chunk);
    const { early, count: read } = JSON.parse(String(await lazy.next()));
    // Up to 16 wait for the handler, and a few more were read off the socket when it paused (on a
    // loaded machine the client may not even have sent one by then): far fewer than were sent.
    assert.ok(early < 100, `the server took in ${early} of ${count} messages while its handler was not reading`);
    assert.equal(read, count, "every message arrived once the handler read them");
  });

  test("20,000 small messages are echoed in order, and other requests are answered meanwhile", async () => {
    const count = 20_000;
    const echo = await openSocket(`${ws}/ws/echo`);
    for (let i = 0; i < count; i++) echo.ws.send(String(i));
    const started = Date.now();
    const health = await request(`${server.url}/health`);
    assert.equal(health.status, 200);
    assert.ok(Date.now() - started < 5000, "the health check waited behind the flood");
    await until(() => echo.messages.length === count || undefined, "every echo", 60_000);
    assert.ok(echo.messages.every((m, i) => m === JSON.stringify({ echo: String(i) })));
    echo.ws.close();
  });

  test("a message far over the limit closes with 1009 at once; the server goes on", async () => {
    const big = await openSocket(`${ws}/ws/echo`);
    big.ws.send(Buffer.alloc(5 * 1024 * 1024));
    assert.equal((await big.closed).code, 1009);
    assert.equal((await request(`${server.url}/health`)).status, 200);
  });

  test("frame headers that claim 2 GiB or 2^53 bytes are refused before any payload is sent", async () => {
    for (const length of [2 ** 31, 2 ** 53 + 2]) {
      const header = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
      header.writeBigUInt64BE(BigInt(length), 2);
      const { data } = await rawExchange(server.url, Buffer.concat([Buffer.from(handshake("/ws/echo")), header]));
      assert.match(data.toString("latin1"), /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.equal(closeCodeIn(data), 1009, `a frame claiming ${length} bytes`);
    }
  });

  test("protocol violations close with 1002 or 1007: an unmasked frame, bad UTF-8, a continuation out of the blue", async () => {
    const unmasked = Buffer.from([0x81, 0x02, 0x68, 0x69]);
    const badUtf8 = clientFrame(0x1, Buffer.from([0xff, 0xfe]));
    const strayContinuation = clientFrame(0x0, Buffer.from("x"));
    for (const [frame, code] of [
      [unmasked, 1002],
      [badUtf8, 1007],
      [strayContinuation, 1002],
    ] as const) {
      const { data } = await rawExchange(server.url, Buffer.concat([Buffer.from(handshake("/ws/echo")), frame]));
      assert.equal(closeCodeIn(data), code);
    }
    assert.equal((await request(`${server.url}/health`)).status, 200);
  });

  test("a client that leaves while the handshake's dependencies run is a 499, and nothing is left behind", async () => {
    const { socket } = await rawExchange(server.url, handshake("/ws/slow-handshake?ms=300"), 50);
    socket.destroy();
    const line = await until(() => logs.out.map((l) => JSON.parse(l)).find((l) => l.path === "/ws/slow-handshake?ms=300"), "the 499 line");
    assert.equal(line.status, 499);
  });
});

describe("clients that vanish", () => {
  const logs = captureLogs();
  let server: RunningServer;
  let ws: string;
  before(async () => {
    // Short HTTP timeouts too: none of them may cut an accepted WebSocket.
    const timeouts = { headersTimeout: 500, requestTimeout: 1000, keepAliveTimeout: 300 };
    server = await serve(app, { port: 0, poolSize: 1, logFormat: "json", logWrite: logs.write, websocketPingInterval: 200, ...timeouts });
    ws = server.url.replace("http:", "ws:");
  });
  after(() => server.close());

  const closeCodeOf = (tag: string) => until(() => journal.find((line) => line.startsWith(`held ${tag} `))?.split(" ")[2], `the end of ${tag}`);

  test("a connection cut without a close frame ends the session with 1006", async () => {
    const cut = await openSocket(`${ws}/ws/hold?tag=cut`);
    await until(() => journal.includes("hold cut"), "the session");
    cut.ws.terminate();
    assert.equal(await closeCodeOf("cut"), "1006");
    const line = await until(() => logs.out.map((l) => JSON.parse(l)).find((l) => l.path === "/ws/hold?tag=cut"), "the access line");
    assert.equal(line.close_code, 1006);
  });

  test("a peer that stops answering pings is dropped within two intervals; one that answers stays", async () => {
    const silent = await openSocket(`${ws}/ws/hold?tag=silent`, { autoPong: false });
    const healthy = await openSocket(`${ws}/ws/hold?tag=healthy`);
    const started = Date.now();
    assert.equal(await closeCodeOf("silent"), "1006");
    assert.ok(Date.now() - started < 2000, `dropped after ${Date.now() - started} ms`);
    await delay(600);
    assert.equal(healthy.ws.readyState, healthy.ws.OPEN, "a peer that answers pings stays connected");
    healthy.ws.close();
    assert.equal(await closeCodeOf("healthy"), "1005");
    silent.ws.terminate();
  });

  test("a session outlives the server's header, request and keep-alive timeouts", async () => {
    const echo = await openSocket(`${ws}/ws/echo`);
    await delay(2500);
    echo.ws.send("still here");
    assert.equal(await echo.next(), JSON.stringify({ echo: "still here" }));
    echo.ws.close();
  });

  test("a raw client that completes the handshake and then goes silent is dropped too", async () => {
    const { data } = await rawExchange(server.url, handshake("/ws/hold?tag=raw"), 1500);
    assert.match(data.toString("latin1"), /^HTTP\/1\.1 101 /);
    assert.equal(await closeCodeOf("raw"), "1006");
  });
});

describe("200 sockets at once", () => {
  let server: RunningServer;
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 1, accessLog: false, metrics: true, logWrite: captureLogs().write });
  });
  after(() => server.close());

  test("each is echoed; all close cleanly; the open gauge returns to 0", async () => {
    const url = `${server.url.replace("http:", "ws:")}/ws/echo`;
    const sockets = await Promise.all(Array.from({ length: 200 }, () => openSocket(url)));
    sockets.forEach((socket, i) => {
      for (let j = 0; j < 3; j++) socket.ws.send(`${i}.${j}`);
    });
    for (const [i, socket] of sockets.entries()) {
      for (let j = 0; j < 3; j++) assert.equal(await socket.next(), JSON.stringify({ echo: `${i}.${j}` }));
    }
    assert.match((await request(`${server.url}/metrics`)).text, /loopwise_websockets_open\{route="\/ws\/echo"\} 200/);
    for (const socket of sockets) socket.ws.close(1000);
    const closed = await Promise.all(sockets.map((socket) => socket.closed));
    assert.ok(closed.every((c) => c.code === 1000));
    let text = "";
    for (let i = 0; i < 100 && !/loopwise_websockets_open\{route="\/ws\/echo"\} 0/.test(text); i++) {
      await delay(20);
      text = (await request(`${server.url}/metrics`)).text;
    }
    assert.match(text, /loopwise_websockets_open\{route="\/ws\/echo"\} 0/);
  });
});

describe("shutdown", () => {
  test("open sessions get 1001 at once, a handshake under way gets 503, one that ignores the close is cut within the grace period", async () => {
    const logs = captureLogs();
    const server = await serve(app, { port: 0, poolSize: 1, logFormat: "json", logWrite: logs.write, gracePeriod: 1000 });
    const ws = server.url.replace("http:", "ws:");
    const open = await Promise.all(["s1", "s2", "s3"].map((tag) => openSocket(`${ws}/ws/hold?tag=${tag}`)));
    // Completes the handshake, then reads nothing and answers nothing: no close frame back.
    const deaf = rawExchange(server.url, handshake("/ws/hold?tag=deaf"), 8000);
    await until(() => ["hold s1", "hold s2", "hold s3", "hold deaf"].every((line) => journal.includes(line)), "four sessions");
    const underWay = openSocket(`${ws}/ws/slow-handshake?ms=300`).catch((error) => error);
    await delay(100);
    const started = Date.now();
    const finished = await server.close();
    assert.equal(finished, true, "every session ended within the grace period");
    assert.ok(Date.now() - started < 3000, `shutdown took ${Date.now() - started} ms`);
    for (const socket of open) assert.deepEqual(await socket.closed, { code: 1001, reason: "Server shutting down" });
    const refused = await underWay;
    assert.equal(refused.status, 503);
    assert.equal(closeCodeIn((await deaf).data), 1001, "the deaf client was sent the close frame before being cut");
    for (const tag of ["s1", "s2", "s3"]) assert.ok(journal.includes(`held ${tag} 1001`), tag);
    assert.ok(journal.includes("held deaf 1006"));
  });
});
