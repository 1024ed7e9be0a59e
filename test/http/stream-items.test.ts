// sse() and jsonLines() with an item schema, given to the helper or as a route's `sse` /
// `jsonLines` option: each item validated before a byte of it is written, an invalid one ending
// the stream with a logged error (the client sees an incomplete body), and OpenAPI documenting
// the items under text/event-stream and application/jsonl.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { App, openApiDocument, serve, type RunningServer } from "loopwise";
import { z } from "zod";
import { app } from "../fixtures/stream-items-app.ts";
import { captureLogs, rawExchange, request, statusOf, until } from "../helpers.ts";

let server: RunningServer;
const logs = captureLogs();
before(async () => {
  server = await serve(app, { port: 0, poolSize: 1, logWrite: logs.write, loopMonitor: false });
});
after(() => server?.close());

/** The body of a raw response, chunked framing taken off: what the client got, ended or not. */
async function exchange(path: string) {
  const raw = await rawExchange(server.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { end: false });
  const split = raw.indexOf("\r\n\r\n");
  const body = split < 0 ? "" : raw.slice(split + 4);
  const complete = /\r\n0\r\n\r\n$/.test(body);
  const text = body.replace(/(^|\r\n)[0-9a-f]+\r\n/g, "$1").replace(/\r\n/g, "");
  return { status: statusOf(raw), text, complete };
}

test("a route's sse items are validated and sent as events; unknown keys stripped, comments let through", async () => {
  const res = await request(`${server.url}/ticks`);
  assert.equal(res.status, 200);
  assert.match(String(res.headers["content-type"]), /^text\/event-stream/);
  assert.equal(res.text, 'data: {"n":1}\n\nevent: tick\nid: 2\ndata: {"n":2}\n\n: no data to check\n\n');
});

test("JSON Lines from a worker's generator, from a list, and from jsonLines() with its own schema", async () => {
  const lines = await request(`${server.url}/lines`);
  assert.equal(lines.headers["content-type"], "application/jsonl");
  assert.equal(lines.text, '{"n":1}\n{"n":2,"note":"from a worker"}\n');
  assert.equal((await request(`${server.url}/lines/list`)).text, '{"n":1}\n{"n":2}\n');
  assert.equal((await request(`${server.url}/own-lines`)).text, '{"n":1}\n{"n":2}\n');
});

test("an invalid item ends the stream: the items before it arrive whole, nothing of it, and the error is logged", async () => {
  for (const [path, sent, route] of [
    ["/ticks/broken", 'data: {"n":1}', "GET /ticks/broken"],
    ["/lines/broken", '{"n":1}', "GET /lines/broken"],
    ["/own-schema", 'data: {"n":1}', "GET /own-schema"],
  ] as const) {
    const res = await exchange(path);
    assert.equal(res.status, 200, path);
    assert.equal(res.complete, false, `${path}: the body is not ended as if whole`);
    assert.equal(res.text.trim(), sent, path);
    await until(() => logs.err.find((line) => line.includes(`Exception in ${route}`)), `the error of ${route} logged`);
  }
  assert.ok(logs.err.some((line) => /event 1 of the stream does not match its item schema: n: /.test(line)));
  assert.ok(logs.err.some((line) => /line 1 of the stream does not match its item schema: n: /.test(line)));
});

test("an invalid first item is answered 500 before the head goes out", async () => {
  const res = await request(`${server.url}/lines/first-bad`);
  assert.equal(res.status, 500);
  assert.deepEqual(res.json, { detail: "Internal Server Error" });
});

test("OpenAPI documents the items under the stream's media type, named", () => {
  const doc: any = openApiDocument(app.routes);
  assert.deepEqual(doc.paths["/ticks"].get.responses["200"].content, {
    "text/event-stream": { schema: { type: "array", items: { $ref: "#/components/schemas/Tick" } } },
  });
  assert.deepEqual(doc.paths["/lines"].get.responses["200"].content, {
    "application/jsonl": { schema: { type: "array", items: { $ref: "#/components/schemas/Tick" } } },
  });
  assert.ok(doc.components.schemas.Tick);
});

test("a route declares one stream format, and no response body beside it", () => {
  const Item = z.object({ n: z.number() });
  assert.throws(() => new App().get("/x", { sse: Item, jsonLines: Item }, async () => []), /either sse or jsonLines/);
  // What the types refuse, as plain JavaScript would pass it.
  const register = (options: unknown) =>
    (new App().get as (path: string, options: unknown, handler: () => unknown) => unknown)("/x", options, async () => []);
  assert.throws(() => register({ sse: Item, response: Item }), /remove "response"/);
  assert.throws(() => register({ jsonLines: {} }), /"jsonLines" must be a Standard Schema/);
});
