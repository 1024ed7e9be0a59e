// The start-up comparison between the main thread's view of the app and a worker's.
import assert from "node:assert/strict";
import { test } from "node:test";
import { compareSignatures } from "../../src/pool/pool.ts";

const main = ["route 0 GET /a loop", "route 1 GET /b worker", "blocking file:///app.ts#0 hash", "blocking file:///other.ts#0 x"];

test("identical routes and a subset of registrations match", () => {
  assert.equal(compareSignatures(main, ["route 0 GET /a loop", "route 1 GET /b worker", "blocking file:///app.ts#0 hash"]), undefined);
});

test("a route missing, added or on another lane is named", () => {
  assert.match(
    compareSignatures(main, ["route 0 GET /a loop"])!,
    /^route 2 is missing in the worker but "route 1 GET \/b worker" in the main thread/,
  );
  assert.match(compareSignatures(main, ["route 0 GET /a worker", "route 1 GET /b worker"])!, /^route 1 is "route 0 GET \/a worker" in the worker/);
});

test("a registration only the worker made is named", () => {
  const worker = ["route 0 GET /a loop", "route 1 GET /b worker", "shared file:///app.ts#0 8"];
  assert.match(compareSignatures(main, worker)!, /the worker registered "shared file:\/\/\/app.ts#0 8", which the main thread did not/);
});
