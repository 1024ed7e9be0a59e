// A path that reaches a route only with or without its trailing slash is redirected there with
// a 307 (method and body kept), its query string too; never to another host; off on request.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { App, serve, type RunningServer } from "loopwise";
import { TestClient } from "loopwise/testing";
import { app, strict } from "../fixtures/slash-app.ts";
import { otherSlash } from "../../src/app/handle-request.ts";
import { rawExchange, statusOf } from "../helpers.ts";

let client: TestClient<typeof app>;
let server: RunningServer;
before(async () => {
  client = await TestClient.start(app, { poolSize: 1 });
  server = await serve(app, { port: 0, poolSize: 1, logWrite: () => {}, accessLog: false, loopMonitor: false, rootPath: "/api" });
});
after(async () => {
  await client?.close();
  await server?.close();
});

test("GET /items/3/ is a 307 to /items/3, its query kept; the other way round too", async () => {
  const res = await client.get("/items/3/?full=1&x=%2F");
  assert.equal(res.status, 307);
  assert.equal(res.headers.location, "/items/3?full=1&x=%2F");
  assert.equal(res.text, "");
  const post = await client.post("/items", { json: { name: "pen" } });
  assert.equal(post.status, 307);
  assert.equal(post.headers.location, "/items/");
  assert.equal((await client.get("/v1/users/")).headers.location, "/v1/users");
  assert.equal((await client.get("/docs/")).headers.location, "/docs");
});

test("a path that has a route as it is is never redirected; one with neither form is a 404", async () => {
  assert.equal((await client.get("/exact")).json(), "no slash");
  assert.equal((await client.get("/exact/")).json(), "slash");
  assert.equal((await client.get("/files/")).status, 200);
  assert.equal((await client.get("/nothing/")).status, 404);
  assert.equal((await client.get("/nothing")).status, 404);
  // A route for another method: the 405 it always was.
  assert.equal((await client.delete("/items/3")).status, 405);
  assert.equal((await client.put("/items/3/")).status, 404);
});

test("never to another host: //host/ and /\\host/ stay 404s", async () => {
  for (const path of ["//evil.example/", "/\\evil.example/", "///"]) assert.equal(otherSlash(path), undefined, path);
  assert.equal(otherSlash("/"), undefined);
  assert.equal(otherSlash("//"), "/", "the same host");
  assert.equal(otherSlash("/a//"), "/a/");
  for (const path of ["//evil.example/", "/\\evil.example/"]) {
    const reply = await rawExchange(server.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.notEqual(statusOf(reply), 307, reply);
    assert.doesNotMatch(reply, /^location:/im);
  }
});

test("over a socket, the location carries the rootPath the app is served under", async () => {
  const reply = await rawExchange(server.port, "GET /items/3/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.equal(statusOf(reply), 307);
  assert.match(reply, /^location: \/api\/items\/3\r$/im);
});

test("redirectSlashes: false answers 404; a value that is not a boolean is refused", async () => {
  const off = await TestClient.start(strict, { poolSize: 1 });
  try {
    assert.equal((await off.get("/items/3/")).status, 404);
    assert.equal((await off.get("/items/3")).status, 200);
  } finally {
    await off.close();
  }
  assert.throws(() => new App({ redirectSlashes: "no" as never }), /redirectSlashes must be true or false/);
});
