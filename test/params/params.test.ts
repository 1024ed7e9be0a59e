// Parsing request input: query strings and bodies.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseBody } from "../../src/params/body.ts";
import { parseQuery } from "../../src/params/query.ts";

test("parseQuery keeps single keys as strings and repeated keys as arrays", () => {
  assert.deepEqual({ ...parseQuery("a=1&b=x&a=2&a=3&empty=&sp=a+b%20c") }, { a: ["1", "2", "3"], b: "x", empty: "", sp: "a b c" });
  assert.deepEqual({ ...parseQuery("") }, {});
  // No prototype to pollute.
  assert.equal(Object.getPrototypeOf(parseQuery("__proto__=x")), null);
});

test("parseBody decodes by media type", () => {
  assert.deepEqual(parseBody(Buffer.from('{"a":[1,2]}'), "application/json; charset=utf-8"), { a: [1, 2] });
  assert.deepEqual(parseBody(Buffer.from('{"a":1}'), "application/merge-patch+json"), { a: 1 });
  assert.deepEqual({ ...(parseBody(Buffer.from("x=1&x=2"), "application/x-www-form-urlencoded") as object) }, { x: ["1", "2"] });
  assert.equal(parseBody(Buffer.from("héllo"), "text/plain"), "héllo");
  const bytes = parseBody(Buffer.from([1, 2, 3]), "application/octet-stream");
  assert.ok(bytes instanceof Uint8Array);
  assert.equal((bytes as Uint8Array).buffer.byteLength, 3, "bytes must not drag a pooled buffer along");
  assert.equal(parseBody(Buffer.alloc(0), "application/json"), undefined);
});

test("malformed JSON is an HTTP 400 naming the problem", () => {
  assert.throws(
    () => parseBody(Buffer.from("{oops"), "application/json"),
    (error: { status: number; message: string }) => {
      assert.equal(error.status, 400);
      assert.match(error.message, /^Malformed JSON body: /);
      return true;
    },
  );
});
