// The TestClient's WebSockets: in memory (no port), through the real handshake and frames.
import assert from "node:assert/strict";
import { threadId } from "node:worker_threads";
import { after, before, test } from "node:test";
import { WebSocketDenied, WebSocketDisconnect } from "loopwise";
import { TestClient } from "loopwise/testing";
import { app, journal } from "../fixtures/websocket-app.ts";
import { listensDuring } from "../helpers.ts";

let client: TestClient;
before(async () => {
  client = await TestClient.start(app, { poolSize: 1 });
});
after(() => client.close());

test("opens a WebSocket without a port, and echoes", async () => {
  const listening = await listensDuring(async () => {
    const ws = await client.websocket("/ws/echo");
    ws.send("hello");
    assert.deepEqual(await ws.receiveJson(), { echo: "hello" });
    ws.send(new Uint8Array([1, 2]));
    // sendJson() encodes as a response body does: bytes as base64.
    assert.deepEqual(await ws.receiveJson(), { echo: Buffer.from([1, 2]).toString("base64") });
    assert.deepEqual(await ws.close(), { code: 1000, reason: "", error: undefined });
  });
  assert.deepEqual(listening, []);
});

test("query, headers and cookies reach the handshake; dependencies run on both lanes", async () => {
  const ws = await client.websocket("/ws/auth", { query: { token: "secret", tag: "tc" } });
  const hello = await ws.receiveJson();
  assert.equal(hello.user, "ada");
  assert.equal(hello.mainThread, threadId);
  assert.notEqual(hello.workerThread, threadId);
  ws.send("bye");
  assert.equal((await ws.closed).code, 1000);
  assert.ok(journal.includes("commit tc"));
});

test("a refused handshake rejects with WebSocketDenied: its status, headers and body", async () => {
  const missing = await client.websocket("/nowhere").catch((error) => error);
  assert.ok(missing instanceof WebSocketDenied);
  assert.equal(missing.status, 404);
  const invalid: WebSocketDenied = await client.websocket("/ws/rooms/k").catch((error) => error);
  assert.equal(invalid.status, 422);
  assert.deepEqual(
    invalid.json().detail.map((issue: { loc: string[] }) => issue.loc),
    [
      ["path", "room"],
      ["query", "name"],
    ],
  );
  const anonymous: WebSocketDenied = await client.websocket("/ws/auth").catch((error) => error);
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers["www-authenticate"], "Bearer");
  const crashed: WebSocketDenied = await client.websocket("/ws/auth", { query: { token: "secret", deny: "throw" } }).catch((error) => error);
  assert.equal(crashed.status, 500);
  assert.equal(crashed.error?.message, "dependency failed");
});

test("a handler's failure is a 1011 whose error the test can read; receive() then raises WebSocketDisconnect", async () => {
  const ws = await client.websocket("/ws/throw/error");
  assert.equal(await ws.receiveText(), "ready");
  const closed = await ws.closed;
  assert.equal(closed.code, 1011);
  assert.equal(closed.error?.message, "boom");
  await assert.rejects(ws.receive(), (error) => error instanceof WebSocketDisconnect && error.code === 1011);
});

test("subprotocols are offered and chosen", async () => {
  const ws = await client.websocket("/ws/proto", { subprotocols: ["chat.v1"] });
  assert.equal(ws.protocol, "chat.v1");
  assert.equal(await ws.receiveText(), "chat.v1");
});

test("close() of the client closes what is still open with 1001, after the handler saw it", async () => {
  const other = await TestClient.start(app, { poolSize: 1 });
  const ws = await other.websocket("/ws/hold", { query: { tag: "tc-close" } });
  await other.close();
  assert.deepEqual((await ws.closed).code, 1001);
  assert.ok(journal.includes("held tc-close 1001"));
});
