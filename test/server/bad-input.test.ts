// Bad input over raw sockets: clear 4xx answers, never a 5xx from the framework, never a crash.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { serve, type RunningServer } from "loopwise";
import { app } from "../fixtures/reliability-app.ts";
import { captureLogs, rawExchange as raw, request, statusOf } from "../helpers.ts";

describe("bad input", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, logWrite: logs.write, headersTimeout: 500, bodyLimit: 4096 });
  });
  after(() => server.close());

  test("headers over the size limit are a 431", async () => {
    const response = await raw(server.port, `GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    assert.equal(statusOf(response), 431);
  });

  test("a client that sends its headers too slowly (slowloris) is cut off with a 408", async () => {
    const started = Date.now();
    const response = await raw(server.port, "GET /hello HTTP/1.1\r\nHost: x\r\n", { end: false, waitMs: 8000 });
    assert.equal(statusOf(response), 408);
    assert.ok(Date.now() - started < 5000, "the header timeout did not cut the connection");
  });

  test("bad percent-encoding in a path parameter is a 400", async () => {
    const reply = await request(server.url + "/items/%E0%A4%A");
    assert.equal(reply.status, 400);
    assert.deepEqual(reply.json, { detail: "Malformed request path" });
  });

  test("a body of a type the route does not take is a 415", async () => {
    const wrong = await request(server.url + "/json-only", { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" });
    assert.equal(wrong.status, 415);
    assert.equal(wrong.json.detail, "Unsupported Media Type: this route takes application/json, got text/plain");
    const right = await request(server.url + "/json-only", {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: '{"a":1}',
    });
    assert.deepEqual(right.json, { got: { a: 1 } });
  });

  test("a response Node cannot send (bad header value, bad status) is a 500 and the server goes on", async () => {
    for (const path of ["/bad-header/loop", "/bad-header/worker", "/bad-status"]) {
      const response = await request(server.url + path);
      assert.equal(response.status, 500, path);
      assert.deepEqual(response.json, { detail: "Internal Server Error" });
    }
    assert.equal((await request(server.url + "/hello")).status, 200);
    for (const path of ["/bad-header/loop", "/bad-header/worker", "/bad-status"]) {
      assert.ok(
        logs.err.some((line) => line.includes(`Exception in GET ${path}`)),
        `the log names ${path}`,
      );
    }
  });

  test("paths that look like traversal are just not found", async () => {
    for (const path of ["/../../etc/passwd", "/items/..%2F..%2Fetc%2Fpasswd/x", "/%2e%2e/%2e%2e/etc/passwd"]) {
      const response = await raw(server.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(response), 404, path);
    }
  });

  test("malformed requests of every kind: never a 5xx from the framework, and the server still answers", async () => {
    const token = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW", "get", "G E T", "");
    const path = fc.oneof(
      fc.constantFrom("/hello", "/echo/1", "/json-only", "/items/%zz", "/echo/%", "//", "/echo/1?a=%", "*", "/echo/1?x[]=1&x[]=2", "/nope"),
      fc.string({ maxLength: 40 }).map((s) => "/" + encodeURIComponent(s)),
      fc.string({ maxLength: 40 }).map((s) => "/echo/" + s.replace(/[\s]/g, "")),
    );
    const contentType = fc.constantFrom(
      "application/json",
      "application/x-www-form-urlencoded",
      "text/plain",
      "application/octet-stream",
      "application/json; charset=x",
      "",
      "multipart/form-data",
    );
    const body = fc.oneof(fc.string({ maxLength: 200 }), fc.json(), fc.constantFrom('{"a":', "[1,2", "\u0000\u0001", "a=%&b", "x".repeat(5000)));
    const logsBefore = logs.err.length;
    const malformed = fc.record({
      method: token,
      path,
      contentType,
      body,
      chunked: fc.boolean(),
      lie: fc.boolean(),
      garbage: fc.option(fc.uint8Array({ maxLength: 64 })),
    });

    await fc.assert(
      fc.asyncProperty(malformed, async (r) => {
        let payload: string | Buffer;
        if (r.garbage) {
          payload = Buffer.from(r.garbage);
        } else {
          const bytes = Buffer.from(r.body, "utf8");
          const framing = r.chunked
            ? `Transfer-Encoding: chunked\r\n\r\n${bytes.length.toString(16)}\r\n${r.body}\r\n0\r\n\r\n`
            : `Content-Length: ${r.lie ? bytes.length + 3 : bytes.length}\r\n\r\n${r.body}`;
          payload = `${r.method} ${r.path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${r.contentType ? `Content-Type: ${r.contentType}\r\n` : ""}${framing}`;
        }
        const response = await raw(server.port, payload, { waitMs: 3000 });
        const status = statusOf(response);
        // 0: the server closed without an answer (only allowed for garbage and lying lengths, when it waits for bytes that never come).
        assert.ok(status < 500, `got ${status} for ${JSON.stringify(r).slice(0, 300)}`);
      }),
      { numRuns: 2000 },
    );
    assert.equal((await request(server.url + "/hello")).status, 200);
    assert.equal((await request(server.url + "/worker/hello")).status, 200);
    const exceptions = logs.err.slice(logsBefore).filter((line) => line.includes("Exception in"));
    assert.deepEqual(exceptions, []);
  });
});
