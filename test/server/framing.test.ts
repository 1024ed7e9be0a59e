// The server frames every response itself: statuses a client can act on, no body where HTTP
// forbids one, never two framings at once, every cookie, `Expect: 100-continue`, absolute-form
// request targets, and 405 from the documentation routes. Checked on the wire, over raw sockets.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { App, serve, type RunningServer } from "loopwise";
import { app } from "../fixtures/framing-app.ts";
import { captureLogs, request } from "../helpers.ts";

/** Sends `payload` on a fresh socket; resolves with everything received until the server closed it. */
function exchange(port: number, payload: string, { waitMs = 5000 } = {}): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1", () => socket.write(payload));
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.on("error", () => socket.destroy());
    socket.setTimeout(waitMs, () => socket.destroy());
  });
}

/** A raw response split into its status line, header lines (lower-cased names) and body. */
function parse(raw: string) {
  const end = raw.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = raw.slice(0, end).split("\r\n");
  const headers = lines.map((line) => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as const;
  });
  return { statusLine, headers, names: headers.map(([name]) => name), body: raw.slice(end + 4) };
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;

describe("response framing", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 1, logWrite: logs.write, bodyLimit: 4096, loopMonitor: false });
  });
  after(() => server.close());

  test("204 and 304 go out without a body or a Content-Length, whatever the handler gave", async () => {
    for (const path of ["/loop/no-content", "/worker/no-content", "/route-204", "/not-modified"]) {
      const raw = await exchange(server.port, get(path));
      const { statusLine, names, headers, body } = parse(raw);
      assert.match(statusLine!, /^HTTP\/1\.1 (204 No Content|304 Not Modified)$/, path);
      assert.ok(!names.includes("content-length"), `${path}: ${raw}`);
      assert.ok(!names.includes("transfer-encoding"), path);
      assert.equal(body, "", path);
      if (path.endsWith("no-content"))
        assert.ok(
          headers.some(([n, v]) => n === "x-kept" && v === "yes"),
          path,
        );
    }
  });

  test("a handler's own Transfer-Encoding and Content-Length are dropped: the server frames the body", async () => {
    const { statusLine, names, headers, body } = parse(await exchange(server.port, get("/own-framing")));
    assert.equal(statusLine, "HTTP/1.1 200 OK");
    assert.ok(!names.includes("transfer-encoding"));
    assert.deepEqual(
      headers.filter(([n]) => n === "content-length"),
      [["content-length", "5"]],
    );
    // A handler's `Content-Type` replaces the default instead of going out beside it.
    assert.deepEqual(
      headers.filter(([n]) => n === "content-type"),
      [["content-type", "text/x-own"]],
    );
    assert.equal(body, "hello");
  });

  test("a header Node refuses gives a 500 with its own reason phrase, not the handler's status's", async () => {
    const { statusLine, body } = parse(await exchange(server.port, get("/teapot-bad-header")));
    assert.equal(statusLine, "HTTP/1.1 500 Internal Server Error");
    assert.equal(body, '{"detail":"Internal Server Error"}');
  });

  test("every Set-Cookie goes out, from a web Response or a json() header list, on either lane", async () => {
    for (const path of ["/loop/web-cookies", "/worker/web-cookies", "/loop/json-cookies", "/worker/json-cookies"]) {
      const reply = await request(server.url + path);
      assert.equal(reply.status, 200, path);
      assert.deepEqual(reply.headers["set-cookie"], ["a=1; Path=/", "b=2; HttpOnly"], path);
    }
  });

  test("header values that are numbers or lists are sent as Node sends them", async () => {
    const { headers } = parse(await exchange(server.port, get("/odd-header-values")));
    assert.deepEqual(
      headers.filter(([n]) => n.startsWith("x-")),
      [
        ["x-number", "5"],
        ["x-list", "a"],
        ["x-list", "b"],
      ],
    );
  });

  test("bytes whose buffer was transferred away are an empty body, not a dropped connection", async () => {
    const reply = await request(server.url + "/detached-bytes");
    assert.equal(reply.status, 200);
    assert.equal(reply.headers["content-length"], "0");
    assert.equal(reply.text, "");
  });

  test("a web Response's status text is not sent: the status line carries the standard phrase", async () => {
    const { statusLine, body } = parse(await exchange(server.port, get("/web-status-text")));
    assert.equal(statusLine, "HTTP/1.1 201 Created");
    assert.match(body, /made/, "streamed: a web Response body is read as it comes");
  });

  test("Expect: 100-continue with a body over the limit gets 413 and no 100 Continue", async () => {
    const raw = await exchange(
      server.port,
      "POST /loop/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n",
    );
    assert.doesNotMatch(raw, /100 Continue/);
    assert.match(raw, /^HTTP\/1\.1 413 Payload Too Large\r\n/);
    assert.match(parse(raw).body, /larger than the limit of 4096 bytes/);
  });

  test("Expect: 100-continue with an acceptable body is invited, then answered", async () => {
    const reply = await new Promise<string>((resolve) => {
      let data = "";
      const socket = connect(server.port, "127.0.0.1", () =>
        socket.write(
          "POST /worker/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\n" +
            "Expect: 100-continue\r\nConnection: close\r\n\r\n",
        ),
      );
      socket.on("data", (chunk) => {
        data += chunk.toString("latin1");
        if (data === "HTTP/1.1 100 Continue\r\n\r\n") socket.write('{"a":1}');
      });
      socket.on("close", () => resolve(data));
      socket.setTimeout(5000, () => socket.destroy());
    });
    assert.match(reply, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    assert.deepEqual(JSON.parse(parse(reply.slice(25)).body), { received: { a: 1 } });
  });

  test("an absolute-form request target gives the handler the path and the parsed query", async () => {
    for (const lane of ["loop", "worker"]) {
      const raw = await exchange(server.port, get(`http://127.0.0.1:${server.port}/${lane}/target?x=1&x=2&y=%C3%A9`));
      const { statusLine, body } = parse(raw);
      assert.equal(statusLine, "HTTP/1.1 200 OK", raw);
      assert.deepEqual(JSON.parse(body), { path: `/${lane}/target`, url: `/${lane}/target?x=1&x=2&y=%C3%A9`, query: { x: ["1", "2"], y: "é" } });
    }
    const bare = parse(await exchange(server.port, get("http://127.0.0.1")));
    assert.equal(bare.statusLine, "HTTP/1.1 404 Not Found");
  });

  test("/openapi.json and /docs answer other methods with 405 and Allow: GET, HEAD", async () => {
    for (const [method, path] of [
      ["POST", "/openapi.json"],
      ["DELETE", "/docs"],
      ["PUT", "/docs/swagger-ui.css"],
    ] as const) {
      const reply = await request(server.url + path, { method });
      assert.equal(reply.status, 405, `${method} ${path}`);
      assert.equal(reply.headers.allow, "GET, HEAD", `${method} ${path}`);
      assert.deepEqual(reply.json, { detail: "Method Not Allowed" });
    }
    assert.equal((await request(server.url + "/openapi.json", { method: "HEAD" })).status, 200);
    assert.equal((await request(server.url + "/docs")).status, 200);
  });
});

test("a route's status must be a final one, 200 to 599, from registration on", () => {
  const app = new App();
  for (const status of [100, 101, 150, 199, 600, 1000, 200.5]) {
    assert.throws(() => app.get(`/s${status}`, { status }, async () => null), /must be an HTTP status code from 200 to 599/, String(status));
  }
  app.get("/ok", { status: 201 }, async () => null);
  app.get("/gone", { status: 599 }, async () => null);
});
