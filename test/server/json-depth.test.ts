// JSON nested deeper than the limit is refused with a 400 before it is parsed: deep nesting is
// cheap to send and overflows the stack of whatever walks it next (the copy to a worker first).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { defaultJsonDepthLimit, serve, type RunningServer } from "loopwise";
import { jsonNestedDeeperThan } from "../../src/params/json-depth.ts";
import { app } from "../fixtures/framing-app.ts";
import { captureLogs, request } from "../helpers.ts";

const nested = (levels: number, open = "[", close = "]") => open.repeat(levels) + close.repeat(levels);
const postJson = (url: string, body: string) => request(url, { method: "POST", headers: { "content-type": "application/json" }, body });

test("the scan counts [ and { outside strings only, escapes included", () => {
  const deeper = (text: string, limit: number) => jsonNestedDeeperThan(Buffer.from(text), limit);
  assert.equal(defaultJsonDepthLimit, 256);
  assert.equal(deeper(nested(3), 3), false);
  assert.equal(deeper(nested(4), 3), true);
  assert.equal(deeper('{"a":{"b":[1,{"c":2}]}}', 3), true);
  assert.equal(deeper('{"a":{"b":[1,{"c":2}]}}', 4), false);
  // Brackets inside strings, after an escaped quote, after an escaped backslash.
  assert.equal(deeper('["[[[[[[[[[["]', 2), false);
  assert.equal(deeper('["\\"[[[[[[[[[["]', 2), false);
  assert.equal(deeper('["\\\\",[[[]]]]', 3), true);
  // Multi-byte characters never hide a bracket.
  assert.equal(deeper('["é€😀[[[[[[["]', 2), false);
  // Siblings do not add up: depth, not count.
  assert.equal(deeper(`[${"[],".repeat(1000)}[]]`, 2), false);
});

describe("JSON depth limit", () => {
  let server: RunningServer;
  let strict: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 1, logWrite: logs.write, loopMonitor: false });
    strict = await serve(app, { port: 0, poolSize: 1, logWrite: logs.write, loopMonitor: false, jsonDepthLimit: 8 });
  });
  after(async () => {
    await server.close();
    await strict.close();
  });

  test("8 KB of nested arrays is a 400 on either lane, and the server goes on", async () => {
    const body = nested(4096);
    assert.equal(body.length, 8192);
    for (const lane of ["loop", "worker"]) {
      const reply = await postJson(`${server.url}/${lane}/echo`, body);
      assert.equal(reply.status, 400, lane);
      assert.deepEqual(reply.json, { detail: "JSON body nested deeper than 256 levels" });
    }
    for (const lane of ["loop", "worker"]) {
      const reply = await postJson(`${server.url}/${lane}/echo`, nested(256));
      assert.equal(reply.status, 200, `${lane}: 256 levels are allowed`);
    }
  });

  test("serve({ jsonDepthLimit }) sets the limit, a whole number from 1", async () => {
    for (const jsonDepthLimit of [0, -1, 2.5, Number.NaN]) {
      await assert.rejects(serve(app, { port: 0, jsonDepthLimit, logWrite: logs.write }), /jsonDepthLimit must be a whole number/);
    }
    assert.equal((await postJson(`${strict.url}/worker/echo`, nested(8, '{"a":', "}").replace(/:}/, ":1}"))).status, 200);
    const deep = await postJson(`${strict.url}/worker/echo`, nested(9));
    assert.equal(deep.status, 400);
    assert.deepEqual(deep.json, { detail: "JSON body nested deeper than 8 levels" });
    assert.equal((await postJson(`${strict.url}/loop/echo`, JSON.stringify({ s: "[".repeat(100) }))).status, 200);
  });
});
