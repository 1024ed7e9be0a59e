// A plain dependency of an async route runs on the pool and its value is copied to the loop: a
// value that would arrive changed (a connection, a class instance, a function) is refused at the
// first request, naming the dependency, what it returned and the two fixes. Real server, real workers.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { fixture, request, spawnServer, until, type ChildServer } from "../helpers.ts";

let server: ChildServer;
before(async () => {
  server = await spawnServer(`${fixture("crossing-app.ts")}:app`, ["--pool-size", "1"]);
});
after(() => server.stop());

/** The DependencyCloneError the server logged for `path` (the log line may follow the response). */
const loggedError = async (path: string): Promise<string> => {
  const line = await until(
    () => server.stderr.find((l) => l.includes("DependencyCloneError") && l.includes(`"path":"${path}"`)),
    `the error of ${path}`,
  );
  return JSON.parse(line).msg;
};

test("a better-sqlite3 connection from a plain dependency on an async route is a DependencyCloneError, not a bare object", async () => {
  const reply = await request(`${server.url}/books`);
  assert.equal(reply.status, 500);
  assert.deepEqual(reply.json, { detail: "Internal Server Error" });
  const logged = await loggedError("/books");
  assert.match(logged, /dependency db returned a Database, which would reach the async route as a plain object without its methods and getters/);
  assert.match(logged, /make the route a plain function \(or lane: "worker"\)/);
  assert.match(logged, /or make db async/);
  assert.doesNotMatch(logged, /is not a function/);
  // The same dependency on a plain route: no crossing, it works.
  assert.deepEqual((await request(`${server.url}/books/plain`)).json, { one: 1 });
});

test("the error names where in the value the part that would change sits", async () => {
  assert.equal((await request(`${server.url}/account`)).status, 500);
  assert.match(await loggedError("/account"), /dependency account returned an Account at \.owner/);
  assert.equal((await request(`${server.url}/tags`)).status, 500);
  assert.match(
    await loggedError("/tags"),
    /dependency tags returned a Buffer at \.get\("b"\)\.values\(\)\[0\], which would reach the async route as a plain Uint8Array/,
  );
  assert.equal((await request(`${server.url}/pending`)).status, 500);
  assert.match(
    await loggedError("/pending"),
    /dependency pending returned a Promise at \.rows, which would reach the async route as an empty object \(await it first\)/,
  );
});

test("plain data crosses as it is: dates, maps, sets, bytes, bigints, regular expressions", async () => {
  const reply = await request(`${server.url}/plain`);
  assert.deepEqual(reply.json, { when: true, map: "one", set: true, bytes: true, big: "4", re: "g" });
});

test("offload() refuses an argument or a result that would cross changed, naming the function", async () => {
  const refused = async (path: string) => {
    assert.equal((await request(`${server.url}${path}`)).status, 500);
    const line = await until(() => server.stderr.find((l) => l.includes(`"path":"${path}"`) && l.includes("offload(")), `the error of ${path}`);
    return JSON.parse(line).msg as string;
  };
  assert.match(
    await refused("/offload/argument"),
    /offload\(rowCount\): its arguments hold a Database at \[0\], which would reach the worker as a plain object/,
  );
  assert.match(await refused("/offload/result"), /offload\(openDatabase\): it returned a Database, which would reach the caller as a plain object/);
  assert.deepEqual((await request(`${server.url}/offload/plain`)).json, { two: 2 });
});
