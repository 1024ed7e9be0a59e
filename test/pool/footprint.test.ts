// A server loads what its app uses: a worker answering plain values loads neither Node's fetch
// implementation (the web Response global), its HTTP server nor busboy; the main thread loads ws and
// prom-client only for WebSocket routes and --metrics; no thread loads the OpenTelemetry API until an
// SDK is registered. A web Response is still recognised.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { fixture, request, spawnServer, type ChildServer } from "../helpers.ts";

let server: ChildServer;
before(async () => {
  server = await spawnServer(`${fixture("footprint-app.ts")}:app`, ["--pool-size", "1"]);
});
after(() => server.stop());

test("a worker answering plain values and json() loads neither fetch, the HTTP server, the form parser nor the OpenTelemetry API", async () => {
  // Asked twice: the second answer tells what making the first response loaded.
  await request(`${server.url}/worker`);
  assert.deepEqual((await request(`${server.url}/worker`)).json, {
    fetch: false,
    httpServer: false,
    ws: false,
    promClient: false,
    busboy: false,
    openTelemetry: false,
  });
  const helper = await request(`${server.url}/worker/json`);
  assert.equal(helper.status, 201);
  assert.equal(helper.json.fetch, false);
});

test("the main thread of an app without WebSocket routes, --metrics or an OpenTelemetry SDK loads neither ws, prom-client nor the OpenTelemetry API", async () => {
  const main = (await request(`${server.url}/main`)).json;
  assert.equal(main.ws, false);
  assert.equal(main.promClient, false);
  assert.equal(main.openTelemetry, false, "no OpenTelemetry SDK is registered");
});

test("a web Response from a worker is still sent as it is", async () => {
  const reply = await request(`${server.url}/worker/response`);
  assert.equal(reply.status, 202);
  assert.equal(reply.text, "made with fetch's Response");
});
