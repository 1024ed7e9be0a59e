// Static mounts: files, indexes, redirects, caching headers, and an attacker's every way of
// asking for a file outside the directory, sent byte for byte over a raw socket (a client
// library would tidy the path up first).
import assert from "node:assert/strict";
import { connect } from "node:net";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { App, serve, staticFiles, type RunningServer } from "loopwise";
import { app, data, publicDir, root, secret } from "../fixtures/files-app.ts";
import { request } from "../helpers.ts";

/** Sends `target` as it is on a request line; resolves with the status and the body. */
function rawGet(url: string, target: string, method = "GET"): Promise<{ status: number; head: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const [head = "", body = ""] = text.split("\r\n\r\n", 2);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body });
    });
    socket.write(`${method} ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`, "latin1");
  });
}

after(() => rmSync(root, { recursive: true, force: true }));

describe("static files", () => {
  let server: RunningServer;
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 1, logWrite: () => {}, loopMonitor: false });
  });
  after(() => server.close());

  test("a file, with its type, validators, the mount's Cache-Control, and 304 on revalidation", async () => {
    const res = await request(`${server.url}/static/hello.txt`);
    assert.equal(res.status, 200);
    assert.equal(res.text, "hello, static\n");
    assert.equal(res.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(res.headers["cache-control"], "public, max-age=60");
    const again = await request(`${server.url}/static/hello.txt`, { headers: { "if-none-match": String(res.headers.etag) } });
    assert.equal(again.status, 304);
    const part = await request(`${server.url}/static/data.bin`, { headers: { range: "bytes=10-19" } });
    assert.equal(part.status, 206);
    assert.ok(Buffer.from(part.text, "utf8").length > 0);
  });

  test("percent-encoded names, nested directories, links that stay inside", async () => {
    assert.equal((await request(`${server.url}/static/r%C3%A9sum%C3%A9.txt`)).text, "accents");
    assert.equal((await request(`${server.url}/static/a%20b.txt`)).text, "space");
    assert.equal((await request(`${server.url}/static/inside-link.txt`)).text, "hello, static\n");
    assert.equal((await request(`${server.url}/static/sub/index.html`)).text, "<p>sub</p>");
  });

  test("a directory: its index under its path with a slash; redirected there without one (query kept)", async () => {
    assert.equal((await request(`${server.url}/static/`)).text, "<h1>home</h1>");
    assert.equal((await request(`${server.url}/static/sub/`)).text, "<p>sub</p>");
    const bare = await request(`${server.url}/static?v=1`);
    assert.equal(bare.status, 307);
    assert.equal(bare.headers.location, "./static/?v=1", "relative: right behind a proxy's prefix too");
    const sub = await request(`${server.url}/static/sub`);
    assert.equal(sub.status, 307);
    assert.equal(sub.headers.location, "./sub/");
    assert.equal((await request(`${server.url}/static/no-index/`)).status, 404);
    assert.equal((await request(`${server.url}/static/no-index`)).status, 404);
    assert.equal((await request(`${server.url}/static/hello.txt/`)).status, 404, "a file is not a directory");
  });

  test("index: null serves no directory; a prefix with a parameter works", async () => {
    assert.equal((await request(`${server.url}/bare/`)).status, 404);
    assert.equal((await request(`${server.url}/bare`)).status, 404);
    assert.equal((await request(`${server.url}/bare/hello.txt`)).text, "hello, static\n");
    assert.equal((await request(`${server.url}/t/acme/files/hello.txt`)).text, "hello, static\n");
    assert.equal((await request(`${server.url}/t/acme/files/sub/`)).text, "<p>sub</p>");
  });

  test("GET and HEAD only; missing files are 404", async () => {
    const head = await request(`${server.url}/static/data.bin`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], String(data.length));
    const post = await request(`${server.url}/static/hello.txt`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, "GET, HEAD");
    assert.equal((await request(`${server.url}/static/nope.txt`)).status, 404);
    assert.equal((await request(`${server.url}/static/pipe`)).status, 404, "a FIFO is not sent (nor waited on)");
    assert.equal((await request(`${server.url}/static/loop`)).status, 404, "a link to itself");
  });

  const attempts = [
    "/static/../secret.txt",
    "/static/../../../../etc/passwd",
    "/static/sub/../../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/secret.txt",
    "/static/.%2e/secret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/..%2fsecret.txt",
    "/static/..%2Fsecret.txt",
    "/static/sub%2f..%2f..%2fsecret.txt",
    "/static/..%5csecret.txt",
    "/static/..%5Csecret.txt",
    "/static/%5c..%5csecret.txt",
    "/static/..\\secret.txt",
    "/static/sub\\..\\..\\secret.txt",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    `/static/${encodeURIComponent(`${root}/secret.txt`)}`,
    "/static/%00",
    "/static/hello.txt%00.png",
    "/static/%c0%ae%c0%ae/secret.txt",
    "/static/%252e%252e/secret.txt",
    "/static/escape.txt",
    "/static/escape-dir/secret.txt",
    "/static/.env",
    "/static/%2eenv",
    "/static/.git/config",
    "/static/sub/./../.env",
    "/static/./hello.txt",
    "/t/x/files/../../../secret.txt",
    "/t/%2e%2e/files/../secret.txt",
    "http://localhost/static/../secret.txt",
    "/static/../static/../secret.txt",
  ];
  for (const target of attempts) {
    test(`no way out: ${target}`, async () => {
      const res = await rawGet(server.url, target);
      assert.ok(res.status >= 400 && res.status < 500, `${target} answered ${res.status}`);
      assert.ok(!res.body.includes(secret) && !res.body.includes("TOKEN=") && !res.body.includes("[core]") && !res.body.includes("root:"));
    });
  }

  test("dotfiles and links that lead out are served only when the mount allows them", async () => {
    assert.equal((await request(`${server.url}/open/.env`)).text, "TOKEN=dotfile");
    assert.equal((await request(`${server.url}/open/escape.txt`)).text, secret);
    // Still no ".." and no encoded separators, whatever the options.
    assert.equal((await rawGet(server.url, "/open/../secret.txt")).status, 404);
    assert.equal((await rawGet(server.url, "/open/..%2fsecret.txt")).status, 404);
  });

  test("pipelined requests on one connection: each file framed by its own length", async () => {
    const { hostname, port } = new URL(server.url);
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname);
      const chunks: Buffer[] = [];
      socket.on("data", (chunk) => chunks.push(chunk));
      socket.on("error", reject);
      socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
      const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;
      socket.write(
        get("/static/hello.txt") +
          get("/static/data.bin", "Range: bytes=0-3\r\n") +
          get("/static/nope") +
          get("/static/hello.txt", "Connection: close\r\n"),
      );
    });
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    assert.deepEqual(statuses, ["200", "206", "404", "200"]);
    assert.equal(text.split("hello, static\n").length - 1, 2);
  });

  test("the server is unharmed after the attempts", async () => {
    assert.equal((await request(`${server.url}/static/hello.txt`)).status, 200);
  });
});

describe("mounting static files", () => {
  test("the directory must exist; the index must be a file name; the prefix must be a path", () => {
    assert.throws(() => staticFiles(`${publicDir}/nope`), /is not a directory/);
    assert.throws(() => staticFiles(`${publicDir}/hello.txt`), /is not a directory/);
    assert.throws(() => staticFiles(publicDir, { index: "../secret.txt" }), /index must be a file name/);
    assert.throws(() => new App().mount("static", staticFiles(publicDir)), /must start with "\/"/);
    assert.throws(() => new App().mount("/static/*", staticFiles(publicDir)), /wildcard/);
    assert.throws(() => new App().mount("/x", {} as never), /takes an App, staticFiles\(\.\.\.\) or a Fetch handler/);
  });
});
