// The typed client at run time: the same calls over a real socket and over a TestClient in
// memory, with path params encoded, queries, declared headers, JSON bodies, reply()'s status,
// headers and cookies, declared and framework errors, and bad calls refused before sending.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { createClient } from "loopwise/client";
import { TestClient } from "loopwise/testing";
import { app } from "../fixtures/client-app.ts";

let server: RunningServer;
let testClient: TestClient<typeof app>;
before(async () => {
  server = await serve(app, { port: 0, poolSize: 1, logWrite: () => {}, accessLog: false, loopMonitor: false });
  testClient = await TestClient.start(app, { poolSize: 1 });
});
after(async () => {
  await server?.close();
  await testClient?.close();
});

for (const over of ["a socket", "memory"] as const) {
  describe(`the typed client over ${over}`, () => {
    const api = () => (over === "memory" ? createClient<typeof app>(testClient) : createClient<typeof app>(server.url));

    test("a route's data is the response schema's output", async () => {
      const { status, data, error, response } = await api().get("/items/:id", { params: { id: 1 } });
      assert.equal(status, 200);
      assert.deepEqual(data, { id: 1, name: "pen", tags: ["office"] });
      assert.equal(error, undefined);
      assert.equal(response.headers.get("content-type"), "application/json");
    });

    test("a declared 404 comes back as error, data undefined", async () => {
      const { status, data, error } = await api().get("/items/:id", { params: { id: 999 } });
      assert.equal(status, 404);
      assert.equal(data, undefined);
      assert.deepEqual(error, { detail: "no item 999" });
    });

    test("reply(): status, headers and cookies of the handler's choosing, the body validated", async () => {
      const { status, data, response } = await api().post("/items", { body: { name: `bag over ${over}` }, headers: { xShop: "north" } });
      assert.equal(status, 201);
      assert.equal(data?.name, `bag over ${over}`);
      assert.deepEqual(data?.tags, []);
      assert.equal(response.headers.get("location"), `/items/${data?.id}`);
      assert.match(response.headers.get("set-cookie") ?? "", new RegExp(`^lastItem=${data?.id}`));
    });

    test("a reply() the response schema refuses is a 500, its body never sent", async () => {
      const { status, error } = await api().put("/items/:id", { params: { id: 1 }, body: { name: "bad" } });
      assert.equal(status, 500);
      assert.deepEqual(error, { detail: "Internal Server Error" });
    });

    test("an invalid body is the 422 in FastAPI's shape", async () => {
      const { status, error } = await api().post("/items", { body: { name: "" } });
      assert.equal(status, 422);
      assert.deepEqual(
        (error as { detail: { loc: unknown[] }[] }).detail.map((issue) => issue.loc),
        [["body", "name"]],
      );
    });

    test("queries, a router's routes, a 204, HEAD", async () => {
      const listed = await api().get("/items", { query: { limit: 1, tag: "office" } });
      assert.deepEqual(
        listed.data?.map((item) => item.name),
        ["pen"],
      );
      const user = await api().get("/users/:name", { params: { name: "ada lovelace/é?" } });
      assert.equal(user.data?.name, "ada lovelace/é?");
      const removed = await api().delete("/users/:name", { params: { name: "ada" } });
      assert.equal(removed.status, 204);
      assert.equal(removed.data, undefined);
      const head = await api().head("/items");
      assert.equal(head.status, 200);
      assert.equal(head.data, undefined);
    });

    test("a route without a response schema answers its handler's value; an unknown path is a 404 error", async () => {
      assert.deepEqual((await api().get("/health")).data, { ok: true, lane: "worker" });
      const loose = over === "memory" ? createClient(testClient) : createClient(server.url);
      const missing = await loose.get("/nowhere/:x", { params: { x: "y" } });
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.error, { detail: "Not Found" });
    });

    test("a call it cannot make rejects before sending: a missing path param", async () => {
      const loose = over === "memory" ? createClient(testClient) : createClient(server.url);
      await assert.rejects(loose.get("/items/:id"), /path parameter "id" is missing/);
      await assert.rejects(loose.get("/items/:id", { params: { id: "" } }), /path parameter "id" is missing/);
    });
  });
}

test("the TestClient's own answers are typed, and its fetch() answers like a server", async () => {
  const res = await testClient.get("/items/1");
  assert.equal(res.json().name, "pen");
  const fetched = await testClient.fetch("http://any.host/items/1?x=1", { headers: { accept: "application/json" } });
  assert.equal(fetched.status, 200);
  assert.deepEqual(await fetched.json(), { id: 1, name: "pen", tags: ["office"] });
  const posted = await testClient.fetch(
    new Request("http://h/items", { method: "POST", body: '{"name":7}', headers: { "content-type": "application/json" } }),
  );
  assert.equal(posted.status, 422);
  assert.equal(((await posted.json()) as { detail: { loc: string[] }[] }).detail[0]?.loc.join("."), "body.name");
});

test("createClient refuses what is neither a URL nor a fetcher", () => {
  assert.throws(() => createClient(42 as never), /base URL or a TestClient/);
  assert.throws(() => createClient("not a url"), /Invalid URL/);
});

test("a reply() with a status no response may have is a 500", async () => {
  const res = await testClient.get("/odd");
  assert.equal(res.status, 500);
});

test("what goes out: the base's path kept and its query dropped, values encoded, declared headers by their names", async () => {
  const seen: Request[] = [];
  const capture = async (request: Request) => {
    seen.push(request);
    return new Response('{"id":1,"name":"x","tags":[]}', { status: 200, headers: { "content-type": "application/json" } });
  };
  const api = createClient<typeof app>("http://shop.example/api/?ignored=1#frag", { fetch: capture, headers: { authorization: "Bearer t" } });
  await api.get("/items", { query: { limit: 2, tag: "a&b=c" }, extraHeaders: { "x-trace": "1" } });
  await api.post("/items", { body: { name: "pen" }, headers: { xShop: "north" } });
  const loose = createClient("http://shop.example", { fetch: capture });
  const when = new Date(Date.UTC(2026, 0, 2));
  await loose.get("/search", { query: { tag: ["a", "b"], at: when, none: undefined, nothing: null, filter: { a: 1 } } });
  const file = new File(["hello"], "hello.txt", { type: "text/plain" });
  await loose.post("/upload", { body: { title: "t", file } });

  assert.equal(seen[0]!.url, "http://shop.example/api/items?limit=2&tag=a%26b%3Dc");
  assert.equal(seen[0]!.headers.get("authorization"), "Bearer t");
  assert.equal(seen[0]!.headers.get("x-trace"), "1");
  assert.equal(seen[1]!.headers.get("x-shop"), "north");
  assert.equal(seen[1]!.headers.get("content-type"), "application/json");
  assert.deepEqual(await seen[1]!.json(), { name: "pen" });
  assert.equal(
    seen[2]!.url,
    `http://shop.example/search?tag=a&tag=b&at=${encodeURIComponent(when.toISOString())}&filter=${encodeURIComponent('{"a":1}')}`,
  );
  assert.match(seen[3]!.headers.get("content-type") ?? "", /^multipart\/form-data; boundary=/);
  const form = await seen[3]!.formData();
  assert.equal(form.get("title"), "t");
  assert.equal(await (form.get("file") as File).text(), "hello");
  assert.throws(() => createClient("ftp://shop.example"), /http or https URL/);
});
