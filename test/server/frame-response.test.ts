// frameResponse on its own: what it makes of every shape a route's answer can take.
import assert from "node:assert/strict";
import { test } from "node:test";
import { serializeError } from "../../src/pool/protocol.ts";
import { originForm } from "../../src/params/request-target.ts";
import { frameResponse } from "../../src/server/frame-response.ts";

const internal = { status: 500, body: '{"detail":"Internal Server Error"}' };

test("a good answer is framed: lower-cased names, the server's Content-Length, no framing of the handler's", () => {
  const framed = frameResponse({
    status: 201,
    headers: { "Content-Type": "text/x", "X-Two": ["a", "b"], "Transfer-Encoding": "chunked" },
    body: "héllo",
  });
  assert.deepEqual(framed, {
    status: 201,
    headers: { "content-type": "text/x", "x-two": ["a", "b"], "content-length": "6" },
    body: "héllo",
    error: undefined,
  });
  const bytes = frameResponse({ status: 200, headers: {}, body: new Uint8Array(3) });
  assert.equal(bytes.headers["content-length"], "3");
});

test("204 and 304 lose their body and any Content-Length", () => {
  for (const status of [204, 304]) {
    assert.deepEqual(frameResponse({ status, headers: { "content-length": "2", etag: "x" }, body: "{}" }), {
      status,
      headers: { etag: "x" },
      body: "",
      error: undefined,
    });
  }
});

test("205 Reset Content loses its body and says so with a zero Content-Length", () => {
  assert.deepEqual(frameResponse({ status: 205, headers: { "content-type": "application/json" }, body: '{"ok":true}' }), {
    status: 205,
    headers: { "content-type": "application/json", "content-length": "0" },
    body: "",
    error: undefined,
  });
});

test("what cannot be sent is a 500 whose error says why", () => {
  const cases: [unknown, RegExp][] = [
    [{ status: 101, headers: {}, body: "" }, /status 101; a response status must be an integer from 200 to 599/],
    [{ status: 200.5, headers: {}, body: "" }, /status 200\.5/],
    [{ status: "200", headers: {}, body: "" }, /status '200'/],
    [{ status: 200, headers: {}, body: undefined }, /body must be a string, bytes or an async iterable, got undefined/],
    [{ status: 200, headers: {}, body: { text: "x" } }, /got \{ text: 'x' \}/],
    [{ status: 200, headers: null, body: "" }, /headers must be an object, got null/],
    [
      {
        status: 200,
        headers: new Proxy(
          {},
          {
            ownKeys: () => {
              throw Symbol("keys");
            },
          },
        ),
        body: "",
      },
      /not an Error: Symbol\(keys\)/,
    ],
    [
      Object.defineProperty({ headers: {}, body: "" }, "status", {
        get: () => {
          throw new Error("status getter");
        },
      }),
      /status getter/,
    ],
  ];
  for (const [answer, why] of cases) {
    const framed = frameResponse(answer as never);
    assert.deepEqual({ status: framed.status, body: framed.body }, internal);
    assert.equal(framed.headers["content-length"], "34");
    assert.match(framed.error!.message, why);
  }
});

test("serializeError never throws and describes what is not an Error", () => {
  const errorWithBadGetters = new Error("x");
  Object.defineProperty(errorWithBadGetters, "message", {
    get: () => {
      throw new Error("getter");
    },
  });
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  assert.match(serializeError(errorWithBadGetters).message, /^an Error whose name, message or stack cannot be read: \[object Error\]/);
  const described = [Symbol("s"), undefined, 10n, revoked.proxy, "x".repeat(10_000)].map((value) => serializeError(value));
  for (const { name, message } of described) {
    assert.equal(name, "NonError");
    assert.match(message, /^a value that is not an Error: /);
    assert.ok(message.length < 1100);
  }
  assert.deepEqual(serializeError(new TypeError("plain")).name, "TypeError");
});

test("originForm turns an absolute-form target into a path and query", () => {
  assert.equal(originForm("/a?b=1"), "/a?b=1");
  assert.equal(originForm("http://host:80/a/b?c=1"), "/a/b?c=1");
  assert.equal(originForm("HTTPS://host"), "/");
  assert.equal(originForm("http://host?x=1"), "/?x=1");
  assert.equal(originForm("*"), "*");
});
