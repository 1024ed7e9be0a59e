// Testing WebSocket routes with the TestClient (docs/websockets.md).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { WebSocketDenied } from "loopwise";
import { TestClient } from "loopwise/testing";
import { app } from "./websockets.ts";

let client: TestClient;
before(async () => {
  client = await TestClient.start(app);
});
after(() => client.close());

test("the echo answers each message", async () => {
  const ws = await client.websocket("/ws/echo");
  ws.send("hello");
  assert.deepEqual(await ws.receiveJson(), { echo: "hello" });
  await ws.close();
});

test("two members of a room hear each other", async () => {
  const ada = await client.websocket("/ws/rooms/lobby", { query: { name: "ada" } });
  assert.deepEqual(await ada.receiveJson(), { from: "server", text: "ada joined" });
  const bob = await client.websocket("/ws/rooms/lobby", { query: { name: "bob" } });
  assert.deepEqual(await ada.receiveJson(), { from: "server", text: "bob joined" });
  assert.deepEqual(await bob.receiveJson(), { from: "server", text: "bob joined" });
  bob.send("hi ada");
  assert.deepEqual(await ada.receiveJson(), { from: "bob", text: "hi ada" });
  await bob.close();
  assert.deepEqual(await ada.receiveJson(), { from: "server", text: "bob left" });
  await ada.close();
});

test("a handshake the route refuses is an HTTP answer", async () => {
  await assert.rejects(client.websocket("/ws/rooms/lobby"), (error: WebSocketDenied) => error.status === 422);
  await assert.rejects(
    client.websocket("/ws/rooms/lobby", { query: { name: "admin" } }),
    (error: WebSocketDenied) => error.status === 403 && error.json().detail === "That name is taken",
  );
});

test("a binary message in a room closes the connection with 1003", async () => {
  const ws = await client.websocket("/ws/rooms/quiet", { query: { name: "eve" } });
  await ws.receiveJson();
  ws.send(new Uint8Array([1]));
  assert.deepEqual(await ws.closed, { code: 1003, reason: "Text messages only", error: undefined });
});
