// Property: whatever a handler does (throw or return any value, reject, exit its worker, hang
// past its timeout), on either lane, the process lives, every request gets exactly one answer,
// and the worker lane answers afterwards.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { serve, type RunningServer } from "loopwise";
import { app, oddValues } from "../fixtures/behaviour-app.ts";
import { captureLogs, delay, request } from "../helpers.ts";

let server: RunningServer;
const logs = captureLogs();
before(async () => {
  server = await serve(app, { port: 0, poolSize: 2, logWrite: logs.write });
});
after(() => server.close());

const kinds = Object.keys(oddValues);
const behaviour = fc.oneof(
  fc.record({ lane: fc.constantFrom("loop", "worker"), action: fc.constantFrom("return", "throw", "reject"), kind: fc.constantFrom(...kinds) }),
  fc.record({ lane: fc.constant("worker"), action: fc.constant("exit"), kind: fc.constant("number") }),
  fc.record({ lane: fc.constantFrom("loop", "worker"), action: fc.constant("hang"), kind: fc.constant("") }),
);
const pathOf = (b: { lane: string; action: string; kind: string }) => (b.action === "hang" ? `/hang/${b.lane}` : `/${b.lane}/${b.action}/${b.kind}`);

test("every odd value, thrown or returned on either lane, gets one well-formed answer", async () => {
  for (const lane of ["loop", "worker"]) {
    for (const action of ["return", "throw", "reject"]) {
      for (const kind of kinds) {
        const reply = await request(`${server.url}/${lane}/${action}/${kind}`);
        assert.ok(reply.status >= 200 && reply.status <= 599, `${lane} ${action} ${kind}: status ${reply.status}`);
        if (reply.status >= 500) assert.ok(reply.json && typeof reply.json.detail === "string", `${lane} ${action} ${kind}: ${reply.text}`);
      }
    }
  }
});

test("property: the process lives, each request gets exactly one answer, the worker lane answers afterwards", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(behaviour, { minLength: 1, maxLength: 6 }), async (behaviours) => {
      const replies = await Promise.all(behaviours.map((b) => request(server.url + pathOf(b))));
      replies.forEach((reply, i) => {
        assert.ok(reply.status >= 200 && reply.status <= 599, `${pathOf(behaviours[i]!)}: ${reply.status}`);
      });
      for (let i = 0; i < 200 && server.pool.ready < server.pool.size; i++) await delay(25);
      assert.equal((await request(`${server.url}/health/worker`)).status, 200);
    }),
    { numRuns: 25 },
  );
});
