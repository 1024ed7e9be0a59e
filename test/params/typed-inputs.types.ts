// Compile-time checks (run by `npm run typecheck`): a handler's argument is typed from the
// route's schemas, with no casts; `@ts-expect-error` lines must stay errors.
import { z } from "zod";
import { App, depends, type HttpRequest, type Query, type UploadFile } from "loopwise";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expect = <T extends true>(_: T) => {};

const app = new App();

const SearchQuery = z.object({ limit: z.number().int().default(10), q: z.string().optional(), tag: z.array(z.string()) });
const Body = z.object({ name: z.string(), price: z.number() });

app.get("/search", { query: SearchQuery }, async (req) => {
  expect<Equal<typeof req.query, { limit: number; q?: string | undefined; tag: string[] }>>(true);
  const limit: number = req.query.limit;
  // @ts-expect-error: not declared in the query schema
  req.query.other;
  return { limit };
});

app.post("/items/:id", { body: Body, status: 201 }, (req) => {
  expect<Equal<typeof req.body, { name: string; price: number }>>(true);
  expect<Equal<typeof req.params, { id: string }>>(true); // no params schema: strings from the path
  // @ts-expect-error: price is a number
  const price: string = req.body.price;
  return { price };
});

app.get("/typed/:id", { params: z.object({ id: z.coerce.number() }) }, async (req) => {
  expect<Equal<typeof req.params.id, number>>(true);
  return null;
});

app.get("/who", { headers: z.object({ xToken: z.string() }), cookies: z.object({ session: z.string().optional() }) }, async (req) => {
  expect<Equal<typeof req.headers.xToken, string>>(true);
  expect<Equal<(typeof req.headers)["user-agent"], string | string[] | undefined>>(true); // other headers stay
  expect<Equal<typeof req.cookies, { session?: string | undefined }>>(true);
  return null;
});

// A `z.file()` field arrives as an UploadFile (a File with a path), alone, optional or in a list.
const Upload = z.object({ title: z.string(), file: z.file(), extra: z.file().optional(), many: z.array(z.file()) });
app.post("/upload", { body: Upload }, async (req) => {
  expect<Equal<typeof req.body.file, UploadFile>>(true);
  expect<Equal<typeof req.body.extra, UploadFile | undefined>>(true);
  expect<Equal<typeof req.body.many, UploadFile[]>>(true);
  expect<Equal<typeof req.body.title, string>>(true);
  const path: string | undefined = req.body.file.path;
  return path;
});

// Without schemas, the untyped defaults.
app.get("/plain", async (req) => {
  expect<Equal<typeof req.query, Query>>(true);
  expect<Equal<typeof req.body, unknown>>(true);
  expect<Equal<typeof req, HttpRequest<{}>>>(true);
  return null;
});

// A response schema types what the handler may return.
const Public = z.object({ id: z.string(), name: z.string() });
app.get("/public", { response: Public }, async () => ({ id: "1", name: "x" }));
// @ts-expect-error: the response schema wants a name
app.get("/public2", { response: Public }, async () => ({ id: "1" }));
// @ts-expect-error: the response schema wants strings
app.get("/public3", { response: Public }, () => ({ id: 1, name: "x" }));

// Dependencies: values typed from what the function returns, resolves to or yields.
const settings = depends(() => ({ pageSize: 20 }));
const db = depends(function* () {
  yield { query: (sql: string) => [sql] };
});
const user = depends({ deps: { db } }, async (req, { db }) => {
  expect<Equal<typeof db, { query: (sql: string) => string[] }>>(true);
  return { name: String(req.headers["x-user"] ?? "anon"), admin: false };
});
app.get("/me", { deps: { user, settings } }, async (req, { user, settings }) => {
  expect<Equal<typeof user, { name: string; admin: boolean }>>(true);
  expect<Equal<typeof settings, { pageSize: number }>>(true);
  void req;
  // @ts-expect-error: no such dependency declared
  void settings.other;
  return user;
});
// @ts-expect-error: deps must be made with depends()
app.get("/bad-dep", { deps: { user: () => 1 } }, async () => null);
// @ts-expect-error: a schema must be a validator
app.get("/bad-schema", { query: { limit: "number" } }, async () => null);
