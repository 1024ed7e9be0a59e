// Declarations that would fail every request are refused at registration, naming the route.
import assert from "node:assert/strict";
import { test } from "node:test";
import { App, Router, type RouteOptions } from "loopwise";
import { z } from "zod";
import { fixture, runCli } from "../helpers.ts";

const BookId = z.object({ bookId: z.coerce.number() });
// The types refuse these too (route-checks.types.ts); typed as any RouteOptions, they get past them to the run-time check.
const unchecked = (options: RouteOptions) => options;

test("a params key that is not in the path is refused at registration, naming the route and both sets of names", () => {
  const app = new App();
  assert.throws(
    () => app.get("/books/:id", unchecked({ params: BookId }), () => null),
    /^TypeError: GET \/books\/:id: params "bookId" is not in the path \(its parameters are "id"\); every request would be refused with 422/,
  );
  assert.throws(() => app.get("/books", unchecked({ params: BookId }), () => null), /params "bookId" is not in the path \(it has no parameters\)/);
  assert.equal(app.routes.length, 0);
  app.get("/books/:bookId", { params: BookId }, (req) => req.params.bookId);
  app.get("/files/*", { params: z.object({ "*": z.string() }) }, (req) => req.params["*"]);
  assert.equal(app.routes.length, 2);
});

test("a router's prefix parameters count, checked with the full path when the router is included", () => {
  const shelves = new Router({ prefix: "/shelves/:shelfId" });
  shelves.get("/books/:bookId", { params: BookId.extend({ shelfId: z.string() }) }, (req) => req.params);
  const app = new App();
  app.include(shelves);
  assert.equal(app.routes[0]!.path, "/shelves/:shelfId/books/:bookId");
  const wrong = new Router({ prefix: "/shelves" });
  wrong.get("/:id", { params: BookId }, (req) => req.params);
  assert.throws(() => new App().include(wrong), /GET \/shelves\/:id: params "bookId" is not in the path/);
});

test("a 204 or 304 route that declares a response body is refused at registration", () => {
  const app = new App();
  const response = z.object({ deleted: z.boolean() });
  assert.throws(
    () => app.delete("/books/:id", unchecked({ status: 204, response }), () => {}),
    /^TypeError: DELETE \/books\/:id: a 204 response has no body, so it cannot declare a response schema/,
  );
  assert.throws(() => app.get("/etag", unchecked({ status: 304, response }), () => {}), /GET \/etag: a 304 response has no body/);
  app.delete("/books/:id", { status: 204 }, () => {});
  assert.equal(app.routes.length, 1);
});

test("loopwise run refuses such an app before it starts any worker", async () => {
  const { code, stderr } = await runCli(["run", fixture("misdeclared-app.ts"), "--port", "0"]);
  assert.equal(code, 1);
  assert.match(stderr, /GET \/books\/:id: params "bookId" is not in the path \(its parameters are "id"\)/);
  assert.doesNotMatch(stderr, /worker#/);
});
