// Request context crosses the lanes with its task, and nothing a task sets leaks into the next.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app } from "../fixtures/context-app.ts";
import { captureLogs, request } from "../helpers.ts";

let server: RunningServer;
before(async () => {
  server = await serve(app, { port: 0, poolSize: 1, maxPoolSize: 1, logWrite: captureLogs().write });
});
after(() => server.close());

test("a context value set on the loop is seen by offload()ed functions and pooled dependencies", async () => {
  const offloaded = await request(`${server.url}/loop/offload`, { headers: { "x-tenant": "acme" } });
  assert.deepEqual(offloaded.json, { onLoop: "acme", inWorker: "acme" });
  const pooled = await request(`${server.url}/loop/pooled`, { headers: { "x-tenant": "globex" } });
  assert.deepEqual(pooled.json, { seen: "globex" });
  // Concurrent requests each see their own.
  const replies = await Promise.all(["a", "b", "c", "d"].map((t) => request(`${server.url}/loop/offload`, { headers: { "x-tenant": t } })));
  assert.deepEqual(
    replies.map((r) => r.json.inWorker),
    ["a", "b", "c", "d"],
  );
});

test("a store a worker-lane handler enters ends with its task: the next task on the same worker sees nothing", async () => {
  assert.deepEqual((await request(`${server.url}/worker/enter/secret`)).json, { set: "secret", tenant: null });
  assert.deepEqual((await request(`${server.url}/worker/peek`)).json, { scratch: null, tenant: null });
});
