// file(): what a request makes of it (200, 206, 304, 412, 416, 404) on both lanes, its headers,
// and how it meets compression; through the TestClient and over real sockets.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { serve, type RunningServer } from "loopwise";
import { TestClient } from "loopwise/testing";
import { contentDisposition } from "../../src/http/file-response.ts";
import { app, data, root } from "../fixtures/files-app.ts";
import { captureLogs, request } from "../helpers.ts";

const size = data.length;

describe("file responses through the TestClient", () => {
  let client: TestClient;
  before(async () => {
    client = await TestClient.start(app, { poolSize: 1 });
  });
  after(async () => {
    await client.close();
  });

  test("the whole file: type from the extension, length, validators, ranges offered", async () => {
    const res = await client.get("/file/hello");
    assert.equal(res.status, 200);
    assert.equal(res.text, "hello, static\n");
    assert.equal(res.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(res.headers["content-length"], "14");
    assert.equal(res.headers["accept-ranges"], "bytes");
    assert.match(res.headers.etag!, /^"[0-9a-f]+-[0-9a-f]+"$/, "a strong ETag");
    assert.ok(!Number.isNaN(Date.parse(res.headers["last-modified"]!)));
    const bin = await client.get("/file/data");
    assert.equal(bin.headers["content-type"], "application/octet-stream");
    assert.ok(bin.bytes.equals(data));
  });

  test("a plain handler's file is opened on the main thread, ranges and all", async () => {
    const res = await client.get("/file/worker/data", { headers: { range: "bytes=0-99" } });
    assert.match(res.lane, /^worker#\d+$/);
    assert.equal(res.status, 206);
    assert.equal(res.headers["content-range"], `bytes 0-99/${size}`);
    assert.ok(res.bytes.equals(data.subarray(0, 100)));
    const whole = await client.get("/file/worker/data");
    assert.ok(whole.bytes.equals(data));
    const missing = await client.get("/file/worker/missing");
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json(), { detail: "Not Found" });
  });

  const ranges: [string, number, string | undefined, [number, number] | "whole" | "none"][] = [
    ["bytes=0-99", 206, `bytes 0-99/${size}`, [0, 100]],
    ["bytes=100-", 206, `bytes 100-${size - 1}/${size}`, [100, size]],
    ["bytes=-5", 206, `bytes ${size - 5}-${size - 1}/${size}`, [size - 5, size]],
    ["bytes=0-99999999999999999999", 206, `bytes 0-${size - 1}/${size}`, [0, size]],
    [`bytes=-${size * 2}`, 206, `bytes 0-${size - 1}/${size}`, [0, size]],
    ["bytes=0-4,3-9", 206, `bytes 0-9/${size}`, [0, 10]],
    ["bytes=5-9,0-4", 206, `bytes 0-9/${size}`, [0, 10]],
    [" Bytes = 10-19 ", 206, `bytes 10-19/${size}`, [10, 20]],
    ["bytes=-0", 416, `bytes */${size}`, "none"],
    ["bytes=999999999-", 416, `bytes */${size}`, "none"],
    ["bytes=5-2", 200, undefined, "whole"],
    ["bytes=a-b", 200, undefined, "whole"],
    ["bytes=0-0,5-9", 200, undefined, "whole"],
    ["items=0-5", 200, undefined, "whole"],
    ["bytes 0-5", 200, undefined, "whole"],
    ["bytes=", 200, undefined, "whole"],
    ["bytes=--1", 200, undefined, "whole"],
    ["bytes=1-2-3", 200, undefined, "whole"],
  ];
  for (const [range, status, contentRange, part] of ranges) {
    test(`Range: ${range} → ${status}`, async () => {
      const res = await client.get("/file/data", { headers: { range } });
      assert.equal(res.status, status);
      assert.equal(res.headers["content-range"], contentRange);
      if (part === "whole") assert.ok(res.bytes.equals(data));
      else if (part === "none") assert.deepEqual(res.json(), { detail: "Range Not Satisfiable" });
      else {
        assert.ok(res.bytes.equals(data.subarray(...part)));
        assert.equal(res.headers["content-length"], String(part[1] - part[0]));
      }
    });
  }

  test("a range of an empty file cannot be satisfied; the file itself is 0 bytes", async () => {
    const res = await client.get("/file/empty", { headers: { range: "bytes=0-0" } });
    assert.equal(res.status, 416);
    assert.equal(res.headers["content-range"], "bytes */0");
    const whole = await client.get("/file/empty");
    assert.equal(whole.status, 200);
    assert.equal(whole.headers["content-length"], "0");
    assert.equal(whole.text, "");
  });

  test("conditional GET: If-None-Match and If-Modified-Since give 304 with the validators only", async () => {
    const first = await client.get("/file/hello");
    const { etag } = first.headers;
    const lastModified = first.headers["last-modified"]!;
    const again = await client.get("/file/hello", { headers: { "if-none-match": etag! } });
    assert.equal(again.status, 304);
    assert.equal(again.text, "");
    assert.equal(again.headers.etag, etag);
    assert.equal(again.headers["content-type"], undefined);
    assert.equal(again.headers["content-length"], undefined);
    assert.equal((await client.get("/file/hello", { headers: { "if-none-match": `"other", ${etag}` } })).status, 304);
    assert.equal((await client.get("/file/hello", { headers: { "if-none-match": `W/${etag}` } })).status, 304, "weak comparison");
    assert.equal((await client.get("/file/hello", { headers: { "if-none-match": '"other"' } })).status, 200);
    assert.equal((await client.get("/file/hello", { headers: { "if-modified-since": lastModified } })).status, 304);
    const before = new Date(Date.parse(lastModified) - 60_000).toUTCString();
    assert.equal((await client.get("/file/hello", { headers: { "if-modified-since": before } })).status, 200);
    assert.equal((await client.get("/file/hello", { headers: { "if-modified-since": "not a date" } })).status, 200);
    // If-None-Match wins over If-Modified-Since; a reload (no-cache) is answered in full.
    assert.equal((await client.get("/file/hello", { headers: { "if-none-match": '"other"', "if-modified-since": lastModified } })).status, 200);
    assert.equal((await client.get("/file/hello", { headers: { "if-none-match": etag!, "cache-control": "no-cache" } })).status, 200);
  });

  test("If-Match and If-Unmodified-Since: 412 when the file is not the one the client means", async () => {
    const { etag, "last-modified": lastModified } = (await client.get("/file/hello")).headers;
    assert.equal((await client.get("/file/hello", { headers: { "if-match": etag! } })).status, 200);
    assert.equal((await client.get("/file/hello", { headers: { "if-match": "*" } })).status, 200);
    const refused = await client.get("/file/hello", { headers: { "if-match": '"other"' } });
    assert.equal(refused.status, 412);
    assert.deepEqual(refused.json(), { detail: "Precondition Failed" });
    assert.equal((await client.get("/file/hello", { headers: { "if-match": `W/${etag}` } })).status, 412, "strong comparison");
    const past = new Date(Date.parse(lastModified!) - 60_000).toUTCString();
    assert.equal((await client.get("/file/hello", { headers: { "if-unmodified-since": past } })).status, 412);
    assert.equal((await client.get("/file/hello", { headers: { "if-unmodified-since": lastModified! } })).status, 200);
  });

  test("If-Range: the range for the version the client has, else the whole file", async () => {
    const { etag, "last-modified": lastModified } = (await client.get("/file/data")).headers;
    const range = "bytes=0-9";
    assert.equal((await client.get("/file/data", { headers: { range, "if-range": etag! } })).status, 206);
    assert.equal((await client.get("/file/data", { headers: { range, "if-range": lastModified! } })).status, 206);
    assert.equal((await client.get("/file/data", { headers: { range, "if-range": '"stale"' } })).status, 200);
    assert.equal((await client.get("/file/data", { headers: { range, "if-range": `W/${etag}` } })).status, 200);
    const older = new Date(Date.parse(lastModified!) - 1000).toUTCString();
    assert.equal((await client.get("/file/data", { headers: { range, "if-range": older } })).status, 200);
    assert.equal((await client.get("/file/data", { headers: { range, "if-range": "garbage" } })).status, 200);
  });

  test("HEAD: the head of each answer, no body", async () => {
    const res = await client.request("HEAD", "/file/data", { headers: { range: "bytes=0-9" } });
    assert.equal(res.status, 206);
    assert.equal(res.headers["content-length"], "10");
    assert.equal(res.text, "");
  });

  test("a download's name, encoded for any language; inline; a type and headers of the handler's", async () => {
    const res = await client.get("/file/download");
    assert.equal(
      res.headers["content-disposition"],
      `attachment; filename="r_sum_ _final_.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.txt`,
    );
    assert.equal(res.headers["content-type"], "text/plain; charset=utf-8");
    const inline = await client.get("/file/inline");
    assert.equal(inline.headers["content-disposition"], 'inline; filename="report.pdf"');
    assert.equal(inline.headers["content-type"], "application/pdf", "typed from the download's name");
    const typed = await client.get("/file/typed");
    assert.equal(typed.headers["content-type"], "application/x-custom");
    assert.equal(typed.headers["cache-control"], "no-store");
  });

  test("without validators: no ETag or Last-Modified, so every GET is answered in full", async () => {
    const res = await client.get("/file/bare", { headers: { "if-modified-since": new Date().toUTCString() } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.etag, undefined);
    assert.equal(res.headers["last-modified"], undefined);
  });

  test("another status or method: the whole file, no ranges", async () => {
    const page = await client.get("/file/not-found-page", { headers: { range: "bytes=0-1" } });
    assert.equal(page.status, 404);
    assert.equal(page.text, "<h1>home</h1>");
    assert.equal(page.headers["accept-ranges"], undefined);
    const posted = await client.post("/file/post", { headers: { range: "bytes=0-1" } });
    assert.equal(posted.status, 200);
    assert.equal(posted.text, "hello, static\n");
  });

  test("nothing to send: missing, a directory, a FIFO, a loop of links, a path through a file are 404 (at once); cookies and other headers stay", async () => {
    for (const path of ["/file/missing", "/file/directory", "/file/fifo", "/file/loop", "/file/through-a-file"]) {
      const res = await client.get(path);
      assert.equal(res.status, 404, path);
      assert.deepEqual(res.json(), { detail: "Not Found" });
      assert.equal(res.headers["accept-ranges"], undefined);
    }
    const res = await client.get("/file/cookie");
    assert.equal(res.status, 404);
    assert.equal(res.headers["set-cookie"], "seen=1; Path=/");
    assert.equal(res.headers["x-kept"], "yes");
  });

  test("file() refuses what is not a path, at the call: a 500 whose error says so", async () => {
    const res = await client.get("/file/bad-path");
    assert.equal(res.status, 500);
    assert.match(res.error!.message, /file\(\) takes a path/);
  });

  test("a middleware that reads a file body gets the whole file", async () => {
    assert.equal((await client.get("/file/read-by-middleware")).text, "read: hello, static\n");
  });

  test("compression: a text file is compressed (weak ETag, which still revalidates); ranges, 304 and small files are not", async () => {
    const gz = { "accept-encoding": "gzip" };
    const style = await client.get("/file/style", { headers: gz });
    assert.equal(style.headers["content-encoding"], "gzip");
    assert.match(style.headers.etag!, /^W\/"/);
    assert.equal(style.headers["content-length"], undefined);
    assert.equal(gunzipSync(style.bytes).toString(), "body { color: black; }\n".repeat(200));
    const revalidated = await client.get("/file/style", { headers: { ...gz, "if-none-match": style.headers.etag! } });
    assert.equal(revalidated.status, 304);
    const part = await client.get("/file/style", { headers: { ...gz, range: "bytes=0-3" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers["content-encoding"], undefined);
    assert.equal(part.text, "body");
    const small = await client.get("/file/hello", { headers: gz });
    assert.equal(small.headers["content-encoding"], undefined);
    assert.equal(small.headers["content-length"], "14");
    const binary = await client.get("/file/data", { headers: gz });
    assert.equal(binary.headers["content-encoding"], undefined, "octet-stream is not compressed");
  });
});

test("Content-Disposition: ASCII as it is, anything else beside an ASCII fallback (RFC 6266, 5987)", () => {
  assert.equal(contentDisposition("report.pdf", "attachment"), 'attachment; filename="report.pdf"');
  assert.equal(contentDisposition("naïve café.txt", "inline"), `inline; filename="na_ve caf_.txt"; filename*=UTF-8''na%C3%AFve%20caf%C3%A9.txt`);
  assert.equal(contentDisposition("日本語.txt", "attachment"), `attachment; filename="___.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt`);
  assert.equal(
    contentDisposition("a\r\nSet-Cookie: x=1", "attachment"),
    `attachment; filename="a__Set-Cookie: x=1"; filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x%3D1`,
  );
  assert.equal(contentDisposition("100%25.txt", "attachment"), `attachment; filename="100%25.txt"; filename*=UTF-8''100%2525.txt`);
  assert.equal(contentDisposition("it's (1)*.txt", "attachment"), `attachment; filename="it's (1)*.txt"`);
  assert.equal(contentDisposition("\ud800.txt", "attachment"), `attachment; filename="_.txt"; filename*=UTF-8''%EF%BF%BD.txt`);
});

describe("file responses over real sockets", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 1, logWrite: logs.write, loopMonitor: false });
  });
  after(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  test("GET, Range and HEAD on the wire: Content-Length framing, no chunking", async () => {
    const whole = await fetch(`${server.url}/file/worker/data`);
    assert.equal(whole.headers.get("content-length"), String(size));
    assert.equal(whole.headers.get("transfer-encoding"), null);
    const body = Buffer.from(await whole.arrayBuffer());
    assert.equal(createHash("sha256").update(body).digest("hex"), createHash("sha256").update(data).digest("hex"));
    const part = await request(`${server.url}/file/data`, { headers: { range: "bytes=0-99" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers["content-length"], "100");
    const head = await request(`${server.url}/file/data`, { method: "HEAD" });
    assert.equal(head.headers["content-length"], String(size));
    assert.equal(head.text, "");
    // The keep-alive connection carries on after each: the framing was right.
    const next = await request(`${server.url}/file/hello`, { keepAlive: true });
    assert.equal(next.text, "hello, static\n");
  });

  test("the access log shows the status sent and the bytes of the body", async () => {
    await request(`${server.url}/file/data`, { headers: { range: "bytes=0-99" } });
    await request(`${server.url}/file/missing`);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !logs.out.some((l) => l.includes('"GET /file/missing HTTP/1.1" 404')))
      await new Promise((r) => setTimeout(r, 20));
    assert.ok(logs.out.some((l) => l.includes('"GET /file/data HTTP/1.1" 206') && l.includes("bytes=100")));
    assert.ok(logs.out.some((l) => l.includes('"GET /file/missing HTTP/1.1" 404')));
    assert.deepEqual(
      logs.err.filter((l) => / ERROR /.test(l)),
      [],
      "a missing file is no error of the server's",
    );
  });
});
