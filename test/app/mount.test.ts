// mount(prefix, app): another app's routes under a prefix, on both lanes (the workers build the
// same table), with its middleware, exception handlers, lifespan hooks and docs; a static site
// at the root that leaves the docs routes alone.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { App, serve, type RunningServer } from "loopwise";
import { TestClient } from "loopwise/testing";
import WebSocket from "ws";
import { launchBrowser, tryItOut } from "../browser.ts";
import { app } from "../fixtures/mount-app.ts";
import { caller } from "../fixtures/mount-sub-app.ts";
import { internalRoute, request } from "../helpers.ts";

describe("a mounted app, over real sockets", () => {
  let server: RunningServer;
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, logWrite: () => {}, loopMonitor: false });
  });
  after(() => server.close());

  test("its routes under the prefix, on both lanes, the outer app's beside them", async () => {
    assert.deepEqual((await request(`${server.url}/v1/items`)).json, [{ id: 1 }]);
    assert.deepEqual((await request(`${server.url}/items`)).json, { outer: true });
    assert.deepEqual((await request(`${server.url}/v1/`)).json, { root: "v1" });
    const plain = await request(`${server.url}/v1/items/7`, { headers: { "x-caller": "ada" } });
    assert.deepEqual(plain.json, { id: "7", who: "ada", workerStarted: true });
  });

  test("the outer app's middleware runs around it, its own inside", async () => {
    const res = await request(`${server.url}/v1/items/7`);
    assert.equal(res.headers["x-outer"], "1");
    assert.equal(res.headers["x-v1"], "1");
    const outer = await request(`${server.url}/items`);
    assert.equal(outer.headers["x-v1"], undefined, "the mounted app's middleware is its routes' alone");
    const early = await request(`${server.url}/v1/items`, { headers: { "x-sub-answers": "1" } });
    assert.deepEqual(early.json, { answeredBy: "v1 middleware" });
    assert.equal(early.headers["x-outer"], "1");
  });

  test("its exception handlers answer its routes' errors, on either lane; the outer app's its own", async () => {
    const loop = await request(`${server.url}/v1/teapot`);
    assert.equal(loop.status, 418);
    assert.deepEqual(loop.json, { handledBy: "v1" });
    assert.deepEqual((await request(`${server.url}/v1/teapot/worker`)).json, { handledBy: "v1" });
    assert.deepEqual((await request(`${server.url}/teapot`)).json, { handledBy: "outer" });
  });

  test("its WebSocket routes under the prefix", async () => {
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/v1/ws`);
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on("open", () => ws.send("hi"));
      ws.on("message", (data) => resolve(String(data)));
      ws.on("error", reject);
    });
    ws.close();
    assert.deepEqual(JSON.parse(reply), { v1: "hi" });
  });

  test("its startup hook ran with the outer app's", async () => {
    assert.deepEqual((await request(`${server.url}/v1/started`)).json, { started: 1 });
  });

  test("its docs under the prefix, with its own document; the outer document leaves its routes out", async () => {
    const outer = (await request(`${server.url}/openapi.json`)).json;
    assert.equal(outer.info.title, "Outer");
    assert.deepEqual(Object.keys(outer.paths).sort(), ["/health", "/items", "/teapot"]);
    const inner = (await request(`${server.url}/v1/openapi.json`)).json;
    assert.equal(inner.info.title, "Version 1");
    assert.deepEqual(inner.servers, [{ url: "/v1" }]);
    assert.deepEqual(Object.keys(inner.paths).sort(), ["/", "/items", "/items/{id}", "/started", "/teapot", "/teapot/worker"]);
    const page = await request(`${server.url}/v1/docs`);
    assert.equal(page.status, 200);
    assert.match(page.text, /url: "\/v1\/openapi\.json"/);
    assert.match(page.text, /href="\/v1\/docs\/swagger-ui\.css"/);
    assert.equal((await request(`${server.url}/v1/docs/swagger-ui.css`)).status, 200);
  });

  test("in Chromium: the mounted app's /v1/docs calls its routes under /v1; the static site's page loads", async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/v1/docs`);
      const result = await tryItOut(page.locator("#operations-default-route_items_get"));
      assert.equal(result.status, "200");
      assert.match(result.url, /\/v1\/items$/);
      await page.goto(`${server.url}/`);
      assert.equal(await page.locator("h1").textContent(), "site");
      // A directory without its slash: redirected to it, and its relative links resolve inside.
      await page.goto(`${server.url}/guide?from=test`);
      assert.equal(page.url(), `${server.url}/guide/?from=test`);
      assert.equal(await page.locator("h1").textContent(), "guide");
      await page.locator("a").click();
      await page.waitForURL(`${server.url}/hello.txt`);
      assert.match((await page.locator("body").textContent()) ?? "", /hello from the site/);
    } finally {
      await browser.close();
    }
  });

  test("a static site at the root takes the paths no route has, and leaves the docs routes alone", async () => {
    assert.match((await request(`${server.url}/`)).text, /<h1>site<\/h1>/);
    assert.equal((await request(`${server.url}/hello.txt`)).text, "hello from the site\n");
    assert.equal((await request(`${server.url}/docs`)).status, 200);
    assert.equal((await request(`${server.url}/openapi.json`)).json.info.title, "Outer");
    assert.equal((await request(`${server.url}/nope.txt`)).status, 404);
    assert.equal((await request(`${server.url}/v1/nope`)).status, 404);
  });
});

test("behind a proxy's root path, a mounted app's docs name both prefixes", async () => {
  const server = await serve(app, { port: 0, poolSize: 1, logWrite: () => {}, loopMonitor: false, rootPath: "/api" });
  try {
    assert.deepEqual((await request(`${server.url}/v1/openapi.json`)).json.servers, [{ url: "/api/v1" }]);
    assert.match((await request(`${server.url}/v1/docs`)).text, /url: "\/api\/v1\/openapi\.json"/);
    assert.deepEqual((await request(`${server.url}/openapi.json`)).json.servers, [{ url: "/api" }]);
  } finally {
    await server.close();
  }
});

test("the served app's dependency overrides reach the mounted routes, on the worker lane too", async () => {
  const client = await TestClient.start(app, { poolSize: 1 });
  try {
    app.dependencyOverrides.set(caller, { value: "overridden" });
    const res = await client.get("/v1/items/5", { headers: { "x-caller": "ada" } });
    assert.match(res.lane, /^worker#/);
    assert.equal(res.json().who, "overridden");
  } finally {
    app.dependencyOverrides.clear();
    await client.close();
  }
});

test("the TestClient serves a mounted app too", async () => {
  const client = await TestClient.start(app, { poolSize: 1 });
  try {
    const res = await client.get("/v1/items/3");
    assert.match(res.lane, /^worker#/);
    assert.equal(res.json().id, "3");
    const ws = await client.websocket("/v1/ws");
    ws.send("hello");
    assert.deepEqual(await ws.receiveJson(), { v1: "hello" });
    await ws.close();
  } finally {
    await client.close();
  }
});

describe("mount() refuses what would not be served", () => {
  test("an app mounted twice, in itself, or given routes or middleware after it was mounted", () => {
    const inner = new App();
    inner.get("/a", async () => "a");
    const outer = new App();
    outer.mount("/in", inner);
    assert.deepEqual(
      outer.routes.map((r) => `${r.method} ${r.path}`),
      ["GET /in/a"],
    );
    assert.throws(() => new App().mount("/again", inner), /mounted already, at "\/in"/);
    assert.throws(() => inner.get("/late", async () => "late"), /GET \/late added to an app after it was mounted \(at "\/in"\)/);
    assert.throws(() => inner.use(async (_req, next) => next()), /middleware added to an app after it was mounted/);
    assert.throws(() => inner.websocket("/ws", async () => {}), /WEBSOCKET \/ws added to an app after it was mounted/);
    assert.throws(() => outer.mount("/self", outer), /cannot be mounted in itself/);
    assert.throws(() => outer.mount("in", new App()), /must start with "\/"/);
  });

  test("a route the outer app has already is a clear error at the mount", () => {
    const inner = new App();
    inner.get("/a", async () => "a");
    const outer = new App();
    outer.get("/in/a", async () => "taken");
    assert.throws(() => outer.mount("/in", inner), /already declared|GET/);
  });

  test("mounts nest: an app mounted in a mounted app", () => {
    const leaf = new App();
    leaf.get("/leaf", async () => "leaf");
    const middle = new App();
    middle.mount("/m", leaf);
    const top = new App();
    top.mount("/t", middle);
    assert.deepEqual(
      top.routes.map((r) => r.path),
      ["/t/m/leaf"],
    );
    assert.equal(internalRoute(top.routes[0]).errors, leaf.errors, "the leaf's own exception handlers");
  });
});
