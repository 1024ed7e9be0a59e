// WebSocket routes over real sockets: the handshake and its refusals, validation, dependencies
// on both lanes, close codes, subprotocols, the access log, metrics and the loop monitor.
import assert from "node:assert/strict";
import { threadId } from "node:worker_threads";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app, journal } from "../fixtures/websocket-app.ts";
import { captureLogs, delay, request, until } from "../helpers.ts";
import { handshake, handshakeHeaders, openSocket, rawExchange } from "./websocket-client.ts";

const logs = captureLogs();
let server: RunningServer;
let ws: string;
before(async () => {
  server = await serve(app, { port: 0, poolSize: 1, logFormat: "json", metrics: true, logWrite: logs.write });
  ws = server.url.replace("http:", "ws:");
});
after(() => server.close());

const accessLines = () => logs.out.map((line) => JSON.parse(line));
const errorLines = () => logs.err.map((line) => JSON.parse(line)).filter((line) => line.event === "handler-error");

describe("the handshake", () => {
  test("each text message is answered with its JSON echo; the session is one access line with its close code", async () => {
    const echo = await openSocket(`${ws}/ws/echo`);
    for (const m of ["hello", "", "ünïcødé ✓", "x".repeat(70_000)]) {
      echo.ws.send(m);
      assert.equal(await echo.next(), JSON.stringify({ echo: m }));
    }
    echo.ws.close(1000, "bye");
    assert.deepEqual(await echo.closed, { code: 1000, reason: "bye" });
    const line = await until(() => accessLines().find((l) => l.path === "/ws/echo"), "the access line");
    assert.equal(line.status, 101);
    assert.equal(line.close_code, 1000);
    assert.equal(line.lane, "loop");
    assert.equal(line.method, "GET");
    assert.ok(line.duration_ms > 0);
  });

  test("a path with no WebSocket route is a 404 on the socket; an HTTP route's path too", async () => {
    for (const path of ["/nowhere", "/health"]) {
      const refused = await openSocket(`${ws}${path}`).catch((error) => error);
      assert.equal(refused.status, 404, path);
      assert.deepEqual(JSON.parse(refused.text), { detail: "Not Found" });
      assert.equal(refused.headers.connection, "close");
    }
    // Plain GETs of the same paths stay HTTP.
    assert.equal((await request(`${server.url}/health`)).status, 200);
    assert.equal((await request(`${server.url}/ws/echo`)).status, 404);
  });

  test("a non-GET or a bad handshake is a 400 with the reason; a malformed path too", async () => {
    const cases: [string, string][] = [
      [handshake("/ws/echo", handshakeHeaders, "POST"), "A WebSocket handshake must be a GET request"],
      [handshake("/ws/echo", { ...handshakeHeaders, "sec-websocket-key": "short" }), "Missing or invalid Sec-WebSocket-Key header"],
      [
        handshake("/ws/echo", { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13" }),
        "Missing or invalid Sec-WebSocket-Key header",
      ],
      ...["12", "8", "13, 8", ""].map((version): [string, string] => [
        handshake("/ws/echo", { ...handshakeHeaders, "sec-websocket-version": version }),
        "Unsupported WebSocket version: Sec-WebSocket-Version must be 13",
      ]),
      [handshake("/ws/rooms/%E0%A4%A", handshakeHeaders), "Malformed request path"],
    ];
    for (const [bytes, detail] of cases) {
      const { text } = await rawExchange(server.url, bytes);
      assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/, bytes);
      assert.ok(text.endsWith(JSON.stringify({ detail })), text);
    }
    // The 400 advertises the one version it takes (RFC 6455 §4.4), the draft version 8 included in the refusal.
    const { text } = await rawExchange(server.url, handshake("/ws/echo", { ...handshakeHeaders, "sec-websocket-version": "8" }));
    assert.match(text, /\r\nsec-websocket-version: 13\r\n/i);
  });

  test("an upgrade to something else (h2c) is served as the plain HTTP request it also is", async () => {
    const { text } = await rawExchange(
      server.url,
      handshake("/health", { connection: "Upgrade, HTTP2-Settings", upgrade: "h2c", "http2-settings": "AAMAAABkAAQAoAAAAAIAAAAA" }),
    );
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /connection: close/i);
    assert.ok(text.endsWith(JSON.stringify({ ok: true })));
  });

  test("path params and query are validated before accepting: a refusal is the 422 an HTTP route gives", async () => {
    const room = await openSocket(`${ws}/ws/rooms/kitchen?name=ada&n=3`);
    assert.deepEqual(JSON.parse(String(await room.next())), { room: "kitchen", name: "ada", n: 3 });
    assert.equal((await room.closed).code, 1000);
    const refused = await openSocket(`${ws}/ws/rooms/k?n=x`).catch((error) => error);
    assert.equal(refused.status, 422);
    assert.deepEqual(
      JSON.parse(refused.text).detail.map((issue: { loc: string[] }) => issue.loc),
      [
        ["path", "room"],
        ["query", "name"],
        ["query", "n"],
      ],
    );
    const line = await until(() => accessLines().find((l) => l.path === "/ws/rooms/k?n=x"), "the refusal's access line");
    assert.equal(line.status, 422);
    assert.equal(line.close_code, undefined);
  });

  test("subprotocols: the route's first choice the client offers", async () => {
    const both = await openSocket(`${ws}/ws/proto`, { protocols: ["chat.v1", "chat.v2"] });
    assert.equal(both.ws.protocol, "chat.v2");
    assert.equal(await both.next(), "chat.v2");
    const none = await openSocket(`${ws}/ws/proto`);
    assert.equal(await none.next(), "(none)");
  });
});

describe("dependencies", () => {
  test("resolve before accepting, on both lanes; cleanup runs after the session, seeing the handler's error", async () => {
    const session = await openSocket(`${ws}/ws/auth?token=secret&tag=a`);
    const hello = JSON.parse(String(await session.next()));
    assert.deepEqual(hello, { user: "ada", workerThread: hello.workerThread, mainThread: threadId, tag: "a" });
    assert.notEqual(hello.workerThread, threadId, "the plain dependency ran on the pool");
    assert.ok(journal.includes("open a") && !journal.includes("commit a"), "the dependency stays set up during the session");
    session.ws.send("thanks");
    assert.equal((await session.closed).code, 1000);
    await until(() => journal.includes("commit a"), "the cleanup");

    const failing = await openSocket(`${ws}/ws/auth?token=secret&tag=b`);
    await failing.next();
    failing.ws.send("fail");
    assert.deepEqual(await failing.closed, { code: 1011, reason: "Internal Error" });
    await until(() => journal.includes("rollback b: handler failed after accept"), "the rollback");
  });

  test("a handler ended by the client's close commits its dependencies: a disconnect is not a failure", async () => {
    const socket = await openSocket(`${ws}/ws/tx-echo?tag=f`);
    socket.ws.send("one");
    assert.equal(await socket.next(), "one");
    socket.ws.close(1000);
    await until(() => journal.includes("commit f"), "the commit");
    assert.ok(!journal.some((line) => line.startsWith("rollback f")));
    assert.ok(!errorLines().some((line) => line.path === "/ws/tx-echo"));
  });

  test("a dependency's HttpError refuses the handshake with its status and headers; a WebSocketError with 403; a crash with 500", async () => {
    const anonymous = await openSocket(`${ws}/ws/auth?tag=c`).catch((error) => error);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers["www-authenticate"], "Bearer");
    assert.deepEqual(JSON.parse(anonymous.text), { detail: "Not authenticated" });
    const denied = await openSocket(`${ws}/ws/auth?token=secret&tag=d&deny=ws`).catch((error) => error);
    assert.equal(denied.status, 403);
    assert.deepEqual(JSON.parse(denied.text), { detail: "No entry" });
    const crashed = await openSocket(`${ws}/ws/auth?token=secret&tag=e&deny=throw`).catch((error) => error);
    assert.equal(crashed.status, 500);
    assert.deepEqual(JSON.parse(crashed.text), { detail: "Internal Server Error" });
    await until(() => errorLines().find((l) => l.error === "dependency failed"), "the dependency's error in the log");
    // A refusal after a dependency set up still cleans it up.
    await until(() => journal.includes("rollback d: No entry"), "the cleanup of a refused handshake");
  });

  test("a router's dependencies guard its WebSocket routes under its prefix", async () => {
    assert.equal((await openSocket(`${ws}/chat/lobby`).catch((error) => error)).status, 401);
    const joined = await openSocket(`${ws}/chat/lobby?token=secret`);
    assert.equal(await joined.next(), "joined lobby");
  });
});

describe("close codes", () => {
  const failures: [string, number, string][] = [
    ["error", 1011, "Internal Error"],
    ["undefined", 1011, "Internal Error"],
    ["string", 1011, "Internal Error"],
    ["proxy", 1011, "Internal Error"],
    ["bad-close", 1011, "Internal Error"],
    ["bad-send", 1011, "Internal Error"],
    ["no-json-form", 1011, "Internal Error"],
    ["ws-error", 4001, "Custom close"],
  ];
  for (const [kind, code, reason] of failures) {
    test(`a handler that ends with ${kind} closes ${code}`, async () => {
      const socket = await openSocket(`${ws}/ws/throw/${kind}`);
      assert.equal(await socket.next(), "ready");
      assert.deepEqual(await socket.closed, { code, reason });
    });
  }

  test("each failure but the WebSocketError is logged with the route; the server keeps serving", async () => {
    const logged = await until(() => {
      const lines = errorLines().filter((l) => l.path === "/ws/throw/:kind");
      return lines.length >= 7 ? lines : undefined;
    }, "seven error lines");
    assert.ok(logged.every((l) => l.method === "WEBSOCKET" && l.lane === "loop"));
    assert.ok(logged.some((l) => /1006 is not a close code a server may send/.test(l.error)));
    assert.ok(logged.some((l) => /send\(\) takes a string/.test(l.error)));
    assert.ok(!logged.some((l) => /Custom close/.test(l.error)));
    assert.equal((await request(`${server.url}/health`)).status, 200);
  });

  test("a reason over 123 bytes is cut at a character boundary, not refused", async () => {
    const socket = await openSocket(`${ws}/ws/throw/long-reason`);
    await socket.next();
    const closed = await socket.closed;
    assert.equal(closed.code, 4002);
    assert.equal(closed.reason, "é".repeat(61));
  });

  test("text, bytes and JSON readers close with 1003 or 1007 on the wrong kind of message", async () => {
    const cases: [string, string | Buffer, { value: unknown } | { close: number }][] = [
      ["text", "hi", { value: "hi" }],
      ["text", Buffer.from([1, 2]), { close: 1003 }],
      ["bytes", Buffer.from([1, 2, 3]), { value: 3 }],
      ["bytes", "hi", { close: 1003 }],
      ["json", '{"a":[1,2]}', { value: { a: [1, 2] } }],
      ["json", Buffer.from('{"b":true}'), { value: { b: true } }],
      ["json", "{oops", { close: 1007 }],
      ["json", "[".repeat(300) + "]".repeat(300), { close: 1007 }],
    ];
    for (const [kind, message, expected] of cases) {
      const socket = await openSocket(`${ws}/ws/typed?kind=${kind}`);
      socket.ws.send(message);
      if ("close" in expected) assert.equal((await socket.closed).code, expected.close, `${kind}: ${String(message).slice(0, 20)}`);
      else assert.deepEqual(JSON.parse(String(await socket.next())), expected);
    }
  });

  test("a message over the route's maxMessageSize closes with 1009", async () => {
    const small = await openSocket(`${ws}/ws/small`);
    small.ws.send("x".repeat(1024));
    assert.equal(await small.next(), "1024");
    small.ws.send("x".repeat(1025));
    assert.equal((await small.closed).code, 1009);
  });
});

describe("lanes and the monitor", () => {
  test("blocking work goes to the pool with offload(); the loop stays free", async () => {
    const socket = await openSocket(`${ws}/ws/offload`);
    socket.ws.send("pw");
    const reply = String(await socket.next());
    assert.match(reply, /^hashed pw on \d+$/);
    assert.notEqual(reply, `hashed pw on ${threadId}`);
  });

  test("a handler that blocks the loop is named by the monitor, with the advice to offload", async () => {
    const socket = await openSocket(`${ws}/ws/block`);
    socket.ws.send("go");
    assert.equal(await socket.next(), "done");
    const warning = await until(
      () => logs.err.map((line) => JSON.parse(line)).find((line) => line.event === "loop-blocked" && line.route === "WEBSOCKET /ws/block"),
      "the loop-blocked warning",
    );
    assert.match(warning.msg, /WEBSOCKET \/ws\/block blocked the event loop/);
    assert.match(warning.msg, /offload/);
  });
});

describe("metrics", () => {
  test("sessions by close code, open connections, durations and messages", async () => {
    const open = await openSocket(`${ws}/ws/echo`);
    open.ws.send("m");
    await open.next();
    const during = (await request(`${server.url}/metrics`)).text;
    assert.match(during, /loopwise_websockets_open\{route="\/ws\/echo"\} 1/);
    open.ws.close(4000);
    await open.closed;
    await delay(50);
    const text = (await request(`${server.url}/metrics`)).text;
    assert.match(text, /loopwise_websockets_open\{route="\/ws\/echo"\} 0/);
    assert.match(text, /loopwise_websocket_sessions_total\{route="\/ws\/echo",close_code="4000"\} 1/);
    assert.match(text, /loopwise_websocket_session_duration_seconds_count\{route="\/ws\/echo"\} \d+/);
    assert.match(text, /loopwise_websocket_messages_total\{route="\/ws\/echo",direction="received"\} \d+/);
    assert.match(text, /loopwise_requests_total\{method="GET",route="\/ws\/echo",lane="loop",status="101"\} \d+/);
    assert.match(text, /loopwise_requests_total\{method="GET",route="\/ws\/rooms\/:room",lane="loop",status="422"\} \d+/);
  });
});
