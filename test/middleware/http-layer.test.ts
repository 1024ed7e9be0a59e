// The HTTP layer over real sockets: middleware order and failures, CORS, compression, request
// ids, cookies and the raw body, on both lanes.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { serve, type RunningServer } from "loopwise";
import { app } from "../fixtures/http-layer-app.ts";
import { captureLogs, request } from "../helpers.ts";
import { openSocket } from "../server/websocket-client.ts";

const allowed = "http://localhost:5173";

describe("middleware", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 1, logWrite: logs.write, loopMonitor: false });
  });
  after(() => server.close());

  test("app middleware wraps every answer, 404s included, first added outermost", async () => {
    const found = await request(`${server.url}/small`);
    assert.equal(found.status, 200);
    assert.equal(found.headers["x-outer"], "1");
    const missing = await request(`${server.url}/nowhere`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers["x-outer"], "1");
    assert.match(String(missing.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
  });

  test("a middleware may answer early; the route never runs", async () => {
    const early = await request(`${server.url}/early`);
    assert.equal(early.status, 418);
    assert.equal(early.text, "answered by middleware");
    assert.ok(early.headers["x-request-id"], "the outer middleware still marks it");
  });

  test("a middleware that throws, calls next() twice or returns nothing gives a 500 the outer middleware still marks", async () => {
    for (const header of ["x-throw-in-middleware", "x-next-twice", "x-no-return"]) {
      const reply = await request(`${server.url}/small`, { headers: { [header]: "1" } });
      assert.equal(reply.status, 500, header);
      assert.deepEqual(reply.json, { detail: "Internal Server Error" });
      assert.ok(reply.headers["x-request-id"], header);
    }
    assert.ok(logs.err.some((line) => line.includes("middleware failed on purpose")));
    assert.ok(logs.err.some((line) => line.includes("next() twice")));
    assert.ok(logs.err.some((line) => line.includes("middleware #2 gave no response: return the response of next()")));
    assert.equal((await request(`${server.url}/small`)).status, 200, "the server goes on");
  });

  test("a middleware under requestId() and compression() that does not await next(): named in the log, and the 500 keeps its request id", async () => {
    const reply = await request(`${server.url}/big`, { headers: { "x-next-unawaited": "1", "accept-encoding": "gzip", "x-request-id": "req-77" } });
    assert.equal(reply.status, 500);
    assert.deepEqual(reply.json, { detail: "Internal Server Error" });
    assert.equal(reply.headers["x-request-id"], "req-77");
    assert.ok(
      logs.err.some((line) => line.includes("middleware #5 (forgetsToAwait) gave no response (it called next() without awaiting it)")),
      logs.err.join("\n"),
    );
    // The middleware above it are not blamed.
    assert.ok(!logs.err.some((line) => line.includes("reading 'headers'") || line.includes("reading 'body'")));
  });

  test("a router's middleware runs for its routes only, and sees the parsed body", async () => {
    const refused = await request(`${server.url}/admin/echo`, { method: "POST", body: '{"a":1}', headers: { "content-type": "application/json" } });
    assert.equal(refused.status, 401);
    const ok = await request(`${server.url}/admin/echo`, {
      method: "POST",
      body: '{"a":1}',
      headers: { "content-type": "application/json", authorization: "Bearer ok" },
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json, { body: { a: 1 } });
    assert.equal(ok.headers["x-router"], "admin");
    assert.equal(ok.headers["x-outer"], "1", "app middleware wraps the router's");
    const outside = await request(`${server.url}/outside`);
    assert.equal(outside.headers["x-router"], undefined);
  });

  test("background tasks a handler added still run when the answer went through middleware", async () => {
    const before = (await request(`${server.url}/stats`)).json.tasksRan;
    assert.equal((await request(`${server.url}/with-task`, { method: "POST" })).status, 200);
    for (let i = 0; i < 100 && (await request(`${server.url}/stats`)).json.tasksRan === before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await request(`${server.url}/stats`)).json.tasksRan, before + 1);
  });

  test("WebSocket handshakes go through the app's middleware: one that answers early refuses the handshake", async () => {
    const wsUrl = server.url.replace("http:", "ws:");
    const open = await openSocket(`${wsUrl}/ws/echo`);
    open.ws.send("hi");
    assert.equal(await open.next(), "hi");
    open.ws.close(1000);
    await assert.rejects(
      openSocket(`${wsUrl}/early`),
      (error: { status: number; text: string }) => error.status === 418 && error.text === "answered by middleware",
    );
    await assert.rejects(
      openSocket(`${wsUrl}/ws/echo`, { headers: { "x-throw-in-middleware": "1" } }),
      (error: { status: number }) => error.status === 500,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(logs.err.filter((line) => line.includes("middleware failed on purpose")).length >= 1);
  });

  test("CORS: a preflight from the allowed origin is answered without a route", async () => {
    const reply = await request(`${server.url}/notes`, {
      method: "OPTIONS",
      headers: { origin: allowed, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    assert.equal(reply.status, 204);
    assert.equal(reply.headers["access-control-allow-origin"], allowed);
    assert.match(String(reply.headers["access-control-allow-methods"]), /POST/);
    assert.equal(reply.headers["access-control-allow-headers"], "authorization, content-type");
    assert.equal(reply.headers["access-control-max-age"], "600");
    assert.match(String(reply.headers.vary), /origin/i);
  });

  test("CORS: other origins, methods and headers are refused without allow headers", async () => {
    const cases = [
      { origin: "http://evil.example", method: "POST", headers: "content-type", why: /origin/ },
      { origin: allowed, method: "TRACE", headers: "", why: /method/ },
      { origin: allowed, method: "POST", headers: "x-secret", why: /headers/ },
    ];
    for (const c of cases) {
      const reply = await request(`${server.url}/small`, {
        method: "OPTIONS",
        headers: { origin: c.origin, "access-control-request-method": c.method, "access-control-request-headers": c.headers },
      });
      assert.equal(reply.status, 400);
      assert.match(reply.json.detail, c.why);
      assert.equal(reply.headers["access-control-allow-origin"], undefined);
    }
  });

  test("CORS: a simple request gets allow-origin for the allowed origin only", async () => {
    const ok = await request(`${server.url}/small`, { headers: { origin: allowed } });
    assert.equal(ok.headers["access-control-allow-origin"], allowed);
    assert.equal(ok.headers["access-control-expose-headers"], "x-request-id");
    const other = await request(`${server.url}/small`, { headers: { origin: "http://evil.example" } });
    assert.equal(other.status, 200, "the browser, not the server, blocks it");
    assert.equal(other.headers["access-control-allow-origin"], undefined);
    const none = await request(`${server.url}/small`);
    assert.equal(none.headers["access-control-allow-origin"], undefined);
  });

  test("compression: gzip or brotli as the client prefers, on both lanes, only when worth it", async () => {
    for (const path of ["/big", "/worker/big"]) {
      const plain = await request(`${server.url}${path}`);
      assert.equal(plain.headers["content-encoding"], undefined);
      const gz = await rawRequest(`${server.url}${path}`, { "accept-encoding": "gzip" });
      assert.equal(gz.headers["content-encoding"], "gzip");
      assert.match(String(gz.headers.vary), /accept-encoding/i);
      assert.equal(gunzipSync(gz.body).toString(), plain.text);
      assert.ok(gz.body.length < plain.text.length / 3);
      const br = await rawRequest(`${server.url}${path}`, { "accept-encoding": "gzip;q=0.5, br" });
      assert.equal(br.headers["content-encoding"], "br");
      assert.equal(brotliDecompressSync(br.body).toString(), plain.text);
    }
    const small = await rawRequest(`${server.url}/small`, { "accept-encoding": "gzip" });
    assert.equal(small.headers["content-encoding"], undefined);
    const refused = await rawRequest(`${server.url}/big`, { "accept-encoding": "gzip;q=0, identity" });
    assert.equal(refused.headers["content-encoding"], undefined);
  });

  test("request id: a sane one is echoed, anything else replaced; both lanes see it; the access line has it", async () => {
    for (const path of ["/loop/request-id", "/worker/request-id"]) {
      const given = await request(`${server.url}${path}`, { headers: { "x-request-id": "abc" } });
      assert.equal(given.headers["x-request-id"], "abc");
      assert.deepEqual(given.json, { requestId: "abc" });
      const made = await request(`${server.url}${path}`);
      assert.match(String(made.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
      assert.deepEqual(made.json, { requestId: made.headers["x-request-id"] });
    }
    const hostile = await request(`${server.url}/small`, { headers: { "x-request-id": 'a" b' } });
    assert.notEqual(hostile.headers["x-request-id"], 'a" b');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(logs.out.some((line) => line.includes("/worker/request-id") && line.includes('id="abc"')));
    const failed = await request(`${server.url}/fail`, { headers: { "x-request-id": "err-1" } });
    assert.equal(failed.status, 500);
    assert.equal(failed.headers["x-request-id"], "err-1");
  });

  test("cookies: several set and one deleted, on both lanes", async () => {
    for (const path of ["/cookies", "/worker/cookies"]) {
      const reply = await request(`${server.url}${path}`);
      const cookies = reply.headers["set-cookie"] as string[];
      assert.equal(cookies.length, 3);
      assert.equal(cookies[0], "session=abc%20123; Path=/; HttpOnly; SameSite=Lax");
      assert.equal(cookies[1], "theme=dark; Path=/");
      assert.match(cookies[2]!, /^old=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970/);
    }
  });

  test("the raw body is there beside the parsed one, byte for byte, on both lanes", async () => {
    const body = '{ "amount": 10,\n  "currency": "EUR" }';
    const expected = createHash("sha256").update(body).digest("hex");
    for (const path of ["/raw", "/worker/raw"]) {
      const reply = await request(`${server.url}${path}`, { method: "POST", body, headers: { "content-type": "application/json" } });
      assert.deepEqual(reply.json, { sha256: expected, parsed: { amount: 10, currency: "EUR" } });
    }
  });
});

/** A request whose body is kept as bytes (compressed bodies are not text). */
function rawRequest(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return fetchRaw(url, headers);
}

async function fetchRaw(url: string, headers: Record<string, string>) {
  const { request: httpRequest } = await import("node:http");
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}
