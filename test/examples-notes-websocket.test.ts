// examples/notes, item 8: WebSocket /ws/echo served by `loopwise run`, driven by a real client.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { delay, fixture, spawnServer, type ChildServer } from "./helpers.ts";
import { openSocket } from "./server/websocket-client.ts";

let server: ChildServer;
before(async () => {
  server = await spawnServer(`${fixture("notes-echo-app.ts")}:app`, ["--pool-size", "1"]);
});
after(() => server.stop());

test('each text message m is answered with the JSON text {"echo": m}', async () => {
  const ws = await openSocket(`${server.url.replace("http:", "ws:")}/ws/echo`);
  for (const m of ["hello", "", "多言語 ✓", '{"not":"parsed"}']) {
    ws.ws.send(m);
    const reply = await ws.next();
    assert.equal(typeof reply, "string");
    assert.deepEqual(JSON.parse(reply as string), { echo: m });
  }
  ws.ws.close(1000);
  assert.equal((await ws.closed).code, 1000);
  // The session's access line is written when it ends, with its close code.
  for (let i = 0; i < 100 && !server.access.some((l) => l.path === "/ws/echo"); i++) await delay(20);
  const line = server.access.find((l) => l.path === "/ws/echo");
  assert.equal(line?.status, 101);
  assert.equal(line?.close_code, 1000);
});

test("a binary message closes the connection with 1003", async () => {
  const ws = await openSocket(`${server.url.replace("http:", "ws:")}/ws/echo`);
  ws.ws.send(Buffer.from([1, 2, 3]));
  assert.deepEqual(await ws.closed, { code: 1003, reason: "Expected a text message" });
});
