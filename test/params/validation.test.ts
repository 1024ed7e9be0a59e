// Declared inputs over real sockets: coercion, every error in FastAPI's 422 shape, validated data
// reaching worker-lane handlers, response schemas.
import assert from "node:assert/strict";
import { threadId } from "node:worker_threads";
import { after, before, describe, test } from "node:test";
import { z } from "zod";
import { App, serve, type RunningServer } from "loopwise";
import { coercerFor } from "../../src/params/coerce.ts";
import { parseCookies } from "../../src/params/cookies.ts";
import { app } from "../fixtures/typed-app.ts";
import { app as valibotApp } from "../fixtures/valibot-app.ts";
import { captureLogs, request } from "../helpers.ts";

describe("declared inputs over HTTP", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, logWrite: logs.write });
  });
  after(() => server.close());
  const get = (path: string, headers?: Record<string, string>) => request(server.url + path, { headers });
  const postJson = (path: string, body: string) =>
    request(server.url + path, { method: "POST", headers: { "content-type": "application/json" }, body });

  test("query strings coerce to numbers, booleans and arrays from repeated keys", async () => {
    const reply = await get("/items?limit=5&done=true&tag=a&tag=b");
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json, { limit: 5, done: true, tag: ["a", "b"], thread: threadId });
    // Defaults apply and a single value for an array field becomes a one-item array.
    assert.deepEqual((await get("/items?tag=x")).json, { limit: 10, tag: ["x"], thread: threadId });
  });

  test("invalid input is a 422 listing every error with type, loc, msg and input", async () => {
    const reply = await get("/items?limit=500&done=maybe");
    assert.equal(reply.status, 422);
    assert.equal(reply.headers["content-type"], "application/json");
    assert.deepEqual(
      reply.json.detail.map((e: any) => [e.type, e.loc, e.input]),
      [
        ["too_big", ["query", "limit"], 500],
        ["invalid_type", ["query", "done"], "maybe"],
      ],
    );
    for (const error of reply.json.detail) assert.equal(typeof error.msg, "string");
    const notNumber = await get("/items?limit=abc");
    assert.deepEqual(notNumber.json.detail[0].loc, ["query", "limit"]);
    assert.equal(notNumber.json.detail[0].input, "abc");
  });

  test("body, path, header and cookie errors name their source; a missing field is type missing", async () => {
    const body = await postJson("/items", '{"name":"","price":-1}');
    assert.equal(body.status, 422);
    assert.deepEqual(
      body.json.detail.map((e: any) => e.loc),
      [
        ["body", "name"],
        ["body", "price"],
      ],
    );
    const noBody = await request(server.url + "/items", { method: "POST" });
    assert.deepEqual(noBody.json, { detail: [{ type: "missing", loc: ["body"], msg: "Field required", input: null }] });
    const path = await get("/items/seven");
    assert.deepEqual(path.json.detail[0].loc, ["path", "id"]);
    const who = await get("/me");
    assert.deepEqual(who.json.detail, [
      { type: "missing", loc: ["header", "x-token"], msg: "Field required", input: null },
      { type: "missing", loc: ["cookie", "session"], msg: "Field required", input: null },
    ]);
    const ok = await get("/me", { "x-token": "secret", cookie: "session=s%201; other=1" });
    assert.deepEqual(ok.json, { token: "secret", session: "s 1" });
  });

  test("validation runs on the main thread; the worker-lane handler receives validated data", async () => {
    const created = await postJson("/items", '{"name":"pen","price":2.5,"extra":"dropped"}');
    assert.equal(created.status, 201);
    assert.deepEqual({ ...created.json, thread: undefined }, { name: "pen", price: 2.5, tags: [], thread: undefined });
    assert.notEqual(created.json.thread, threadId, "the handler ran in a worker");
    const listed = await get("/sync/items?limit=3");
    assert.equal(listed.json.limit, 3);
    assert.notEqual(listed.json.thread, threadId);
    // An invalid request never reaches the pool: answered on the loop.
    const before = logs.out.length;
    await get("/sync/items?limit=0");
    await new Promise((r) => setTimeout(r, 20));
    assert.match(logs.out.slice(before).join("\n"), /"GET \/sync\/items\?limit=0 HTTP\/1.1" 422 .* lane=loop/);
  });

  test("a response schema strips what it does not declare; a mismatch is a 500 that leaks nothing", async () => {
    assert.deepEqual((await get("/public/7")).json, { id: "7", name: "n" });
    const broken = await get("/broken-response");
    assert.equal(broken.status, 500);
    assert.deepEqual(broken.json, { detail: "Internal Server Error" });
    assert.match(logs.err.join("\n"), /ResponseValidationError.*broken-response returned a value its response schema refuses: id:/);
  });
});

describe("validation pieces", () => {
  test("coercion follows the JSON Schema and leaves what does not parse for the validator", () => {
    const coerce = coercerFor(
      z.toJSONSchema(z.object({ n: z.number(), b: z.boolean(), a: z.array(z.number()), s: z.string(), o: z.number().nullable() })) as any,
    )!;
    assert.deepEqual(coerce({ n: "1.5", b: "off", a: "3", s: "7", o: "2" }), { n: 1.5, b: false, a: [3], s: "7", o: 2 });
    assert.deepEqual(coerce({ n: "x", b: "maybe", a: ["1", "y"], s: ["last", "wins"] }), { n: "x", b: "maybe", a: [1, "y"], s: "wins" });
    assert.deepEqual(coerce({ n: " " }), { n: " " });
  });

  test("cookies parse with quotes, %-escapes and the first of repeated names", () => {
    assert.deepEqual({ ...parseCookies('a=1; b="two"; c=%E2%9C%93; a=again; bad; d=%zz') }, { a: "1", b: "two", c: "✓", d: "%zz" });
    assert.deepEqual({ ...parseCookies(undefined) }, {});
  });

  test("a route refuses a schema that is not a Standard Schema validator", () => {
    assert.throws(
      () => new App().get("/x", { query: { limit: "number" } as never }, async () => null),
      /"query" must be a Standard Schema validator/,
    );
  });
});

describe("any Standard Schema validator, and the validation handler", () => {
  let server: RunningServer;
  before(async () => {
    server = await serve(valibotApp, { port: 0, poolSize: 1, logWrite: captureLogs().write });
  });
  after(() => server.close());

  test("Valibot schemas validate too, and the app's handler replaces the 422", async () => {
    assert.deepEqual((await request(server.url + "/v?name=ada")).json, { hello: "ada" });
    const bad = await request(server.url + "/v?name=a");
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json, { problems: ["query.name"], path: "/v" });
  });

  test("async refinements are awaited", async () => {
    const post = (code: string) =>
      request(server.url + "/async-check", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code }) });
    assert.deepEqual((await post("ok")).json, { code: "ok" });
    assert.deepEqual((await post("no")).json, { problems: ["body.code"], path: "/async-check" });
  });
});
