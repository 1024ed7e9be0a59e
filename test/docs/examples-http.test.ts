// The apps of the responses and middleware pages, driven through TestClient: what each page says they do.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { TestClient } from "loopwise/testing";
import { app as files } from "../../docs/examples/file-responses.ts";
import { app as middleware } from "../../docs/examples/middleware.ts";
import { app as responses } from "../../docs/examples/responses.ts";

describe("docs/examples/responses.ts", () => {
  let client: TestClient;
  before(async () => {
    client = await TestClient.start(responses, { poolSize: 1 });
  });
  after(() => client.close());

  test("cookies: two set, one deleted", async () => {
    const res = await client.post("/login");
    assert.match(
      res.headers["set-cookie"]!,
      /session=s3cr3t; Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax, theme=dark; Path=\/, tracking=; Max-Age=0/,
    );
  });

  test("streams on both lanes, SSE from Last-Event-ID, JSON Lines", async () => {
    assert.equal((await client.get("/countdown")).text, "3...\n2...\n1...\nliftoff\n");
    const report = await client.get("/report");
    assert.equal(report.text, "header\nrows\nfooter\n");
    assert.match(report.lane, /^worker#/);
    assert.equal((await client.get("/export.csv")).headers["content-type"], "text/csv");
    const ticks = await client.get("/ticks", { headers: { "last-event-id": "41" } });
    assert.match(ticks.text, /^event: tick\nid: 42\ndata: \{"i":42\}\n\n/);
    assert.equal((await client.get("/items.jsonl")).text, '{"id":1}\n{"id":2}\n');
  });

  test("the webhook checks its signature over the raw bytes", async () => {
    const body = '{"event": "paid"}';
    const signature = createHmac("sha256", "whsec_example").update(body).digest("hex");
    const ok = await client.post("/webhook", { body, headers: { "content-type": "application/json", "x-signature": signature } });
    assert.deepEqual(ok.json(), { received: { event: "paid" } });
    const bad = await client.post("/webhook", {
      body: '{"event":"paid"}',
      headers: { "content-type": "application/json", "x-signature": signature },
    });
    assert.equal(bad.status, 401);
  });
});

describe("docs/examples/middleware.ts", () => {
  let client: TestClient;
  before(async () => {
    client = await TestClient.start(middleware, { poolSize: 1 });
  });
  after(() => client.close());

  test("request id, compression, the app's own header", async () => {
    const res = await client.get("/notes", { headers: { host: "localhost", "accept-encoding": "gzip", "x-request-id": "abc" } });
    assert.equal(res.headers["x-request-id"], "abc");
    assert.equal(res.headers["content-encoding"], "gzip");
    assert.match(res.headers["server-timing"]!, /^app;dur=\d+\.\d$/);
  });

  test("the router's middleware guards its routes; trusted hosts refuse others", async () => {
    assert.equal((await client.get("/admin/stats", { headers: { host: "localhost" } })).status, 401);
    const ok = await client.get("/admin/stats", { headers: { host: "api.example.com", authorization: "Bearer let-me-in", "x-request-id": "r-42" } });
    assert.deepEqual(ok.json(), { requestId: "r-42" });
    assert.equal((await client.get("/notes", { headers: { host: "evil.example" } })).status, 400);
  });

  test("CORS preflight", async () => {
    const res = await client.request("OPTIONS", "/notes", {
      headers: { host: "localhost", origin: "http://localhost:5173", "access-control-request-method": "POST" },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers["access-control-allow-origin"], "http://localhost:5173");
  });
});

test("TestClient returns compressed bytes as a client would receive them", async () => {
  const client = await TestClient.start(middleware, { poolSize: 1 });
  try {
    const res = await client.get("/notes", { headers: { host: "localhost", "accept-encoding": "gzip" } });
    assert.equal(res.headers["content-encoding"], "gzip");
    assert.match(gunzipSync(res.bytes).toString(), /^\{"notes":\[\{"id":0,"title":"note 0"\}/);
  } finally {
    await client.close();
  }
});

describe("docs/examples/file-responses.ts", () => {
  let client: TestClient;
  before(async () => {
    client = await TestClient.start(files, { poolSize: 1 });
  });
  after(() => client.close());

  test("a file as a download, a range of it from a plain handler", async () => {
    const report = await client.get("/report");
    assert.equal(report.headers["content-disposition"], 'attachment; filename="report-2026.csv"');
    assert.equal(report.text, "id,title,words\n1,first note,120\n2,second note,80\n");
    const part = await client.get("/report/inline", { headers: { range: "bytes=15-30" } });
    assert.equal(part.status, 206);
    assert.match(part.lane, /^worker#/);
    assert.equal(part.text, "1,first note,120");
  });

  test("static files: a file, a directory's index, a redirect, 304, and no way out", async () => {
    const hello = await client.get("/static/hello.txt");
    assert.equal(hello.text, "hello from a static file\n");
    assert.equal(hello.headers["cache-control"], "public, max-age=3600");
    assert.equal((await client.get("/static/docs")).headers.location, "./docs/");
    assert.match((await client.get("/static/docs/")).text, /<h1>The docs<\/h1>/);
    assert.equal((await client.get("/static/hello.txt", { headers: { "if-none-match": hello.headers.etag! } })).status, 304);
    assert.equal((await client.get("/static/..%2f..%2fpackage.json")).status, 404);
  });

  test("the mounted app: its routes and middleware under /v1, its own docs", async () => {
    const status = await client.get("/v1/status");
    assert.deepEqual(status.json(), { version: 1 });
    assert.equal(status.headers["x-api-version"], "1");
    const doc = (await client.get("/v1/openapi.json")).json();
    assert.equal(doc.info.title, "Reports API");
    assert.deepEqual(doc.servers, [{ url: "/v1" }]);
    assert.equal((await client.get("/openapi.json")).json().paths["/v1/status"], undefined);
  });
});
