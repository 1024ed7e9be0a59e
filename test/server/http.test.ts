// HTTP behaviour of the server over real sockets: inputs, outputs, errors, the access log.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app } from "../fixtures/lanes-app.ts";
import { captureLogs, request } from "../helpers.ts";

describe("HTTP", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, logWrite: logs.write, bodyLimit: 1024 });
  });
  after(async () => {
    await server.close();
  });

  for (const lane of ["loop", "worker"]) {
    test(`path params, repeated query keys, JSON body and route status reach a ${lane}-lane handler`, async () => {
      const reply = await request(`${server.url}/${lane}/echo/7?tag=a&tag=b&q=x`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "widget", size: 3 }),
      });
      assert.equal(reply.status, 201);
      assert.equal(reply.headers["content-type"], "application/json");
      assert.deepEqual(reply.json.query, { tag: ["a", "b"], q: "x" });
      assert.equal(reply.json.id, "7");
      assert.deepEqual(reply.json.body, { name: "widget", size: 3 });
    });

    test(`a form body and a text body are parsed for the ${lane} lane`, async () => {
      const form = await request(`${server.url}/${lane}/echo/1`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "a=1&b=two",
      });
      assert.deepEqual(form.json.body, { a: "1", b: "two" });
      const text = await request(`${server.url}/${lane}/echo/1`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" });
      assert.equal(text.json.body, "hi");
    });
  }

  test("malformed JSON is a 400 that says so, on either lane", async () => {
    for (const lane of ["loop", "worker"]) {
      const reply = await request(`${server.url}/${lane}/echo/1`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"name": ',
      });
      assert.equal(reply.status, 400);
      assert.match(reply.json.detail, /^Malformed JSON body/);
    }
  });

  test("a body over the limit is a 413", async () => {
    const reply = await request(`${server.url}/worker/echo/1`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "x".repeat(5000),
    });
    assert.equal(reply.status, 413);
    assert.match(reply.json.detail, /larger than the limit of 1024 bytes/);
  });

  test("a chunked body over the limit is a 413 too", async () => {
    const raw = await rawRequest(
      server.port,
      "POST /worker/echo/1 HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "800\r\n" +
        "y".repeat(0x800) +
        "\r\n0\r\n\r\n",
    );
    assert.match(raw, /^HTTP\/1\.1 413/);
  });

  test("unknown paths are a JSON 404, wrong methods a JSON 405 with Allow", async () => {
    const missing = await request(server.url + "/nowhere");
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { detail: "Not Found" });
    const wrong = await request(server.url + "/loop/where", { method: "DELETE" });
    assert.equal(wrong.status, 405);
    assert.deepEqual(wrong.json, { detail: "Method Not Allowed" });
    assert.equal(wrong.headers.allow, "GET, HEAD");
  });

  test("HEAD on a GET route gives the headers without a body", async () => {
    const reply = await request(server.url + "/worker/where", { method: "HEAD" });
    assert.equal(reply.status, 200);
    assert.equal(reply.text, "");
    assert.ok(Number(reply.headers["content-length"]) > 0);
  });

  test("routers nest with their prefixes", async () => {
    assert.deepEqual((await request(server.url + "/v1/items/abc")).json, { itemId: "abc" });
    assert.deepEqual((await request(server.url + "/v1/items/")).json, { items: [] });
  });

  test("json(), web Response objects set status and headers from a worker", async () => {
    const custom = await request(server.url + "/worker/custom");
    assert.equal(custom.status, 202);
    assert.equal(custom.headers["x-lane"], "worker");
    assert.deepEqual(custom.json, { made: "here" });
    const web = await request(server.url + "/worker/web-response");
    assert.equal(web.status, 203);
    assert.equal(web.text, "plain words");
  });

  test("malformed request lines get a 400 and the server goes on", async () => {
    const raw = await rawRequest(server.port, "NOT-HTTP\r\n\r\n");
    assert.match(raw, /^HTTP\/1\.1 400 Bad Request/);
    assert.equal((await request(server.url + "/loop/where")).status, 200);
  });

  test("keep-alive connections are reused across both lanes", async () => {
    const ports = new Set<number>();
    const { Agent } = await import("node:http");
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { get } = await import("node:http");
    for (const path of ["/loop/where", "/worker/where", "/loop/where"]) {
      await new Promise<void>((resolve) =>
        get(server.url + path, { agent }, (res) => {
          ports.add(res.socket.localPort!);
          res.resume().on("end", resolve);
        }),
      );
    }
    agent.destroy();
    assert.equal(ports.size, 1);
  });

  test("the access log line has the timestamp, client, request line, status, duration, lane and queue wait", async () => {
    await request(server.url + "/worker/where?x=1");
    await new Promise((resolve) => setImmediate(resolve));
    const line = logs.out.findLast((l) => l.includes("/worker/where?x=1"))!;
    assert.match(
      line,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO 127\.0\.0\.1:\d+ - "GET \/worker\/where\?x=1 HTTP\/1\.1" 200 OK \d+\.\dms lane=worker#[12] queued=\d+\.\dms$/,
    );
  });
});

describe("JSON log format", () => {
  test("access lines and server messages are JSON objects", async () => {
    const logs = captureLogs();
    const server = await serve(app, { port: 0, poolSize: 1, logFormat: "json", logWrite: logs.write });
    await request(server.url + "/loop/where");
    await server.close();
    const access = logs.out.map((l) => JSON.parse(l));
    assert.equal(access.length, 1);
    assert.equal(access[0].event, "access");
    assert.equal(access[0].lane, "loop");
    assert.equal(access[0].status, 200);
    assert.equal(access[0].queued_ms, null);
    assert.ok(logs.err.every((l) => typeof JSON.parse(l).msg === "string"));
    assert.ok(logs.err.some((l) => JSON.parse(l).event === "listening"));
  });

  test("--no-access-log style option silences access lines only", async () => {
    const logs = captureLogs();
    const server = await serve(app, { port: 0, poolSize: 1, accessLog: false, logWrite: logs.write });
    await request(server.url + "/loop/where");
    await server.close();
    assert.equal(logs.out.length, 0);
    assert.ok(logs.err.some((l) => l.includes("Application startup complete.")));
  });
});

function rawRequest(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(payload));
    let data = "";
    socket.on("data", (d) => (data += d));
    socket.on("end", () => resolve(data));
    socket.on("close", () => resolve(data));
    socket.on("error", reject);
    socket.setTimeout(5000, () => socket.destroy());
  });
}
