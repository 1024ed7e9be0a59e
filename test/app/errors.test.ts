// Errors: HttpError with headers, exception handlers by class on both lanes, and no stack or
// message of an unexpected error ever reaching the client.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app } from "../fixtures/errors-app.ts";
import { captureLogs, request } from "../helpers.ts";

let server: RunningServer;
const logs = captureLogs();
before(async () => {
  server = await serve(app, { port: 0, poolSize: 1, logWrite: logs.write });
});
after(() => server.close());

test("an exception handler answers for its class and subclasses, on either lane", async () => {
  const loop = await request(server.url + "/loop/stock");
  assert.equal(loop.status, 409);
  assert.deepEqual(loop.json, { detail: "pen is out of stock", path: "/loop/stock" });
  const worker = await request(server.url + "/worker/stock");
  assert.equal(worker.status, 409);
  assert.deepEqual(worker.json, { detail: "ink is out of stock", path: "/worker/stock" });
});

test("an error class raised by a pooled dependency of a loop route is answered by its handler", async () => {
  const reply = await request(server.url + "/loop/stock-dep");
  assert.equal(reply.status, 409);
  assert.deepEqual(reply.json, { detail: "paper is out of stock", path: "/loop/stock-dep" });
});

test("HttpError carries its status, any JSON detail and headers", async () => {
  const reply = await request(server.url + "/teapot");
  assert.equal(reply.status, 418);
  assert.deepEqual(reply.json, { detail: { reason: "short and stout" } });
  assert.equal(reply.headers["x-kind"], "teapot");
});

test("errors in handlers, exception handlers and dependencies never leak to the client", async () => {
  for (const path of ["/failing-handler", "/loop/broken-dep", "/worker/broken-dep"]) {
    const reply = await request(server.url + path);
    assert.equal(reply.status, 500, path);
    assert.deepEqual(reply.json, { detail: "Internal Server Error" }, path);
    assert.doesNotMatch(reply.text, /secret|hunter2|at /, path);
  }
  await new Promise((r) => setTimeout(r, 20));
  const log = logs.err.join("\n");
  assert.match(log, /the handler itself fails/);
  assert.match(log, /database password is hunter2/);
});
