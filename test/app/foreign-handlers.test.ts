// Foreign handlers through Loopwise's server, middleware and access log: a real Hono app and a
// real GraphQL Yoga server mounted as Fetch handlers, and helmet through the Connect adapter.
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { App, serve, type RunningServer } from "loopwise";
import { app } from "../fixtures/foreign-app.ts";
import { captureLogs, request, until } from "../helpers.ts";

const json = { "content-type": "application/json" };

describe("foreign handlers", () => {
  let server: RunningServer;
  const logs = captureLogs();
  const access = (path: string) => logs.out.map((line) => JSON.parse(line)).filter((line) => line.path === path);
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 1, logFormat: "json", logWrite: logs.write, bodyLimit: 64 * 1024 });
  });
  after(() => server.close());

  test("a Hono route answers under the prefix (which it does not see), through the app's middleware and access log", async () => {
    const reply = await request(`${server.url}/hono/hello/ada?q=1`, { headers: { "x-request-id": "hono-1" } });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json, { hello: "ada", path: "/hello/ada", query: "1" });
    assert.equal(reply.headers["x-request-id"], "hono-1");
    assert.equal(reply.headers["x-content-type-options"], "nosniff", "helmet's headers, through the Connect adapter");
    await until(() => access("/hono/hello/ada?q=1").length === 1);
    assert.deepEqual([access("/hono/hello/ada?q=1")[0].status, access("/hono/hello/ada?q=1")[0].lane], [200, "loop"]);
    assert.equal((await request(`${server.url}/hono/nothing-here`)).status, 404, "Hono's own 404");
  });

  test("a request body streams into the handler and its response streams out: each chunk is echoed before the next is sent", async () => {
    const url = new URL(`${server.url}/hono/echo`);
    const echoed = await new Promise<string[]>((resolve, reject) => {
      const seen: string[] = [];
      const req = httpRequest(url, { method: "POST", headers: { "transfer-encoding": "chunked" }, agent: false }, (res) => {
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          seen.push(chunk);
          // The next piece goes only once this one came back: a body read whole first would hang here.
          if (seen.length < 3) req.write(`piece ${seen.length}`);
          else req.end();
        });
        res.on("end", () => resolve(seen));
      });
      req.on("error", reject);
      req.flushHeaders();
      req.write("piece 0");
    });
    assert.deepEqual(echoed, ["piece 0", "piece 1", "piece 2"]);
  });

  test("a streamed response arrives in pieces; two cookies stay two", async () => {
    const reply = await request(`${server.url}/hono/stream`);
    assert.equal(reply.text, "chunk 0\nchunk 1\nchunk 2\n");
    const cookies = await request(`${server.url}/hono/cookies`);
    assert.deepEqual(cookies.headers["set-cookie"], ["a=1; Path=/", "b=2; Path=/"]);
  });

  test("a client that leaves an endless stream ends it: logged 499, the server goes on", async () => {
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${server.url}/hono/endless`, { agent: false }, (res) => {
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      req.on("error", () => {});
      req.on("close", () => resolve());
      req.on("timeout", reject);
      req.end();
    });
    await until(() => access("/hono/endless").length === 1, "the endless stream's access line");
    assert.equal(access("/hono/endless")[0].status, 499);
    assert.equal((await request(`${server.url}/hono/hello/again`)).status, 200);
  });

  test("a body past the limit: a declared length is a 413 at once; a chunked one is cut and the server goes on", async () => {
    const big = "x".repeat(100 * 1024);
    const declared = await request(`${server.url}/hono/echo`, { method: "POST", body: big });
    assert.equal(declared.status, 413);
    const chunked = await new Promise<{ status: number; complete: boolean; body: string }>((resolve) => {
      const req = httpRequest(
        `${server.url}/graphql`,
        { method: "POST", headers: { ...json, "transfer-encoding": "chunked" }, agent: false },
        (res) => {
          let body = "";
          res.on("data", (chunk) => (body += chunk));
          res.on("end", () => resolve({ status: res.statusCode!, complete: true, body }));
          res.on("error", () => resolve({ status: res.statusCode!, complete: false, body }));
        },
      );
      req.on("error", () => resolve({ status: 0, complete: false, body: "" }));
      req.end(`{"query": "${big}"}`);
    });
    assert.notEqual(chunked.status, 200, `GraphQL Yoga must not have run the query: ${chunked.status} ${chunked.body.slice(0, 200)}`);
    assert.equal((await request(`${server.url}/hono/hello/after`)).status, 200);
  });

  test("GraphQL Yoga answers a query by POST and by GET, and a bad query with its own 400", async () => {
    const posted = await request(`${server.url}/graphql`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ query: '{ hello(name: "loopwise") }' }),
    });
    assert.equal(posted.status, 200);
    assert.deepEqual(posted.json, { data: { hello: "hello loopwise" } });
    const got = await request(`${server.url}/graphql?query=${encodeURIComponent("{ hello }")}`, { headers: { accept: "application/json" } });
    assert.deepEqual(got.json, { data: { hello: "hello world" } });
    const bad = await request(`${server.url}/graphql`, {
      method: "POST",
      headers: { ...json, accept: "application/graphql-response+json" },
      body: JSON.stringify({ query: "{ nope }" }),
    });
    assert.equal(bad.status, 400);
    assert.match(bad.json.errors[0].message, /Cannot query field "nope"/);
    const garbage = await request(`${server.url}/graphql`, { method: "POST", headers: json, body: "{not json" });
    assert.equal(garbage.status, 400);
  });

  test("Connect middleware: one that answers stops the request (helmet's headers still added); next(error) and a throw are 500s", async () => {
    const blocked = await request(`${server.url}/native`, { headers: { "x-block": "yes" } });
    assert.deepEqual([blocked.status, blocked.text, blocked.headers["x-blocked-by"]], [403, "blocked", "connect"]);
    assert.equal(blocked.headers["x-content-type-options"], "nosniff");
    const native = await request(`${server.url}/native`);
    assert.deepEqual([native.status, native.json, native.headers["x-frame-options"]], [200, { lane: "worker" }, "SAMEORIGIN"]);
    for (const how of ["next", "throw"]) {
      const failed = await request(`${server.url}/native`, { headers: { "x-fail": how } });
      assert.equal(failed.status, 500);
    }
  });

  test("a mounted handler that returns no Response, or throws, is a 500 with the reason in the log", async () => {
    assert.equal((await request(`${server.url}/not-a-response/x`)).status, 500);
    assert.equal((await request(`${server.url}/throws`)).status, 500);
    await until(
      () => logs.err.some((line) => /returned 'text', not a Response/.test(line)) && logs.err.some((line) => /the fetch handler failed/.test(line)),
    );
  });
});

test("mount() says what it takes", async () => {
  const app = new App();
  assert.throws(() => app.mount("/x", 42 as never), /mount\(\) takes an App, staticFiles\(\.\.\.\) or a Fetch handler .* got 42/);
  assert.throws(() => app.mount("/x", { fetch: "no" } as never), /got an object|got \{/);
});
