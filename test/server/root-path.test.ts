// rootPath (--root-path): the app served under a prefix by a proxy that strips it. A real
// stripping proxy in front, and /docs driven in a real browser through it.
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { TestClient } from "loopwise/testing";
import { launchBrowser, tryItOut } from "../browser.ts";
import { app } from "../fixtures/deploy-app.ts";
import { captureLogs, request } from "../helpers.ts";

/**
 * nginx's `location /api/ { proxy_pass http://upstream/; }` in a few lines: strips the prefix,
 * appends the peer to X-Forwarded-For, sets X-Forwarded-Proto; anything outside the prefix is a
 * 404 it records, so a page that loads from the wrong place shows up.
 */
function strippingProxy(prefix: string, upstream: string): Promise<{ url: string; server: Server; strays: string[] }> {
  const strays: string[] = [];
  const target = new URL(upstream);
  const server = createServer((req, res) => {
    if (!req.url?.startsWith(`${prefix}/`)) {
      strays.push(req.url ?? "");
      res.writeHead(404).end();
      return;
    }
    const forwardedFor = [req.headers["x-forwarded-for"], req.socket.remoteAddress].filter(Boolean).join(", ");
    const upstreamReq = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url.slice(prefix.length),
        headers: { ...req.headers, "x-forwarded-for": forwardedFor, "x-forwarded-proto": "http" },
        agent: false,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.on("error", () => res.writeHead(502).end());
    req.pipe(upstreamReq);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, strays })),
  );
}

describe("behind a proxy that serves the app under /api", () => {
  let server: RunningServer;
  let proxy: Awaited<ReturnType<typeof strippingProxy>>;
  before(async () => {
    // The trailing slash is forgiven: the prefix is "/api".
    server = await serve(app, { port: 0, poolSize: 1, logWrite: captureLogs().write, rootPath: "/api/", proxyHeaders: true });
    proxy = await strippingProxy("/api", server.url);
  });
  after(async () => {
    proxy.server.close();
    await server.close();
  });

  test("handlers see the prefix in req.rootPath, to build links that work through the proxy", async () => {
    const reply = await request(`${proxy.url}/api/link`);
    assert.equal(reply.json.self, `http://${new URL(proxy.url).host}/api/link`);
    const worker = await request(`${proxy.url}/api/whoami-worker`);
    assert.deepEqual(worker.json, { client: "127.0.0.1:0", scheme: "http", rootPath: "/api" });
  });

  test("the OpenAPI document names the prefix as its server, and /docs loads everything from under it", async () => {
    const document = await request(`${proxy.url}/api/openapi.json`);
    assert.deepEqual(document.json.servers, [{ url: "/api" }]);
    assert.ok(document.json.paths["/whoami"], "paths stay as the app declares them");
    const page = await request(`${proxy.url}/api/docs`);
    assert.match(page.text, /<script src="\/api\/docs\/swagger-ui-bundle.js">/);
    assert.match(page.text, /url: "\/api\/openapi.json"/);
  });

  test("in a real browser, /api/docs shows the operations and Try it out reaches the app through the proxy", { timeout: 60_000 }, async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${proxy.url}/api/docs`);
      const result = await tryItOut(page.locator('[id^="operations-"][id$="_whoami_get"]'));
      assert.equal(result.status, "200");
      const body = JSON.parse(result.body);
      assert.deepEqual(body, { client: "127.0.0.1:0", scheme: "http", rootPath: "/api" });
      assert.deepEqual(
        proxy.strays.filter((url) => url !== "/favicon.ico"),
        [],
        "the page asked for nothing outside /api",
      );
    } finally {
      await browser.close();
    }
  });
});

test("without a root path the document has no servers and the page loads from the root", async () => {
  const server = await serve(app, { port: 0, poolSize: 1, logWrite: captureLogs().write, rootPath: "/" });
  try {
    assert.equal((await request(`${server.url}/openapi.json`)).json.servers, undefined);
    assert.match((await request(`${server.url}/docs`)).text, /url: "\/openapi.json"/);
    assert.equal((await request(`${server.url}/whoami`)).json.rootPath, "");
  } finally {
    await server.close();
  }
});

test("a root path that is not a path is refused at startup", async () => {
  for (const bad of ["api", "/a b", "/api?x=1", "/api#top", "https://example.com/api", "/api\n"]) {
    await assert.rejects(serve(app, { port: 0, poolSize: 1, rootPath: bad }), /rootPath must be a path starting with "\/"/, JSON.stringify(bad));
  }
});

test("the TestClient takes a rootPath too", async () => {
  const client = await TestClient.start(app, { poolSize: 1, rootPath: "/api" });
  try {
    assert.deepEqual((await client.get("/whoami-worker")).json(), { client: "testclient:0", scheme: "http", rootPath: "/api" });
    assert.deepEqual((await client.get("/openapi.json")).json().servers, [{ url: "/api" }]);
  } finally {
    await client.close();
  }
});
