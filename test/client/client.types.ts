// Compile-time checks (run by `npm run typecheck`): the client typed from a chained app accepts
// what the routes declare and refuses the rest, and its answers carry the routes' types.
import type { HTTPValidationError } from "loopwise";
import { createClient } from "loopwise/client";
import { TestClient } from "loopwise/testing";
import type { app, plain } from "../fixtures/client-app.ts";

const api = createClient<typeof app>("http://127.0.0.1:8000");

export async function typed(): Promise<void> {
  const list = await api.get("/items", { query: { limit: 5 } });
  if (list.data) list.data[0]?.tags.map((tag: string) => tag.length);
  if (list.error) list.error.detail;

  const one = await api.get("/items/:id", { params: { id: 3 } });
  if (one.data) one.data.name.toUpperCase();
  else if (one.error && typeof one.error.detail === "string") one.error.detail.toUpperCase();

  const made = await api.post("/items", { body: { name: "pen" }, headers: { xShop: "north" } });
  const id: number | undefined = made.data?.id;
  const issues = made.error as HTTPValidationError | undefined;
  issues?.detail[0]?.loc;

  // A router's routes carry its prefix; a handler's own return type types a route without a response schema.
  const user = await api.get("/users/:name", { params: { name: "ada" } });
  const greeting: string | undefined = user.data?.greeting;
  const health = await api.get("/health");
  const ok: true | undefined = health.data?.ok;
  await api.delete("/users/:name", { params: { name: "ada" } });
  await api.head("/items");
  // A route without a query or body schema takes what it is sent.
  await api.get("/health", { query: { verbose: 1 } });
  await api.delete("/users/:name", { params: { name: "ada" }, body: "why" });
  void [id, greeting, ok];

  // @ts-expect-error: a wrong body (name is a string)
  await api.post("/items", { body: { name: 3 } });
  // @ts-expect-error: a body missing its required field
  await api.post("/items", { body: { tags: [] } });
  // @ts-expect-error: the body is required
  await api.post("/items");
  // @ts-expect-error: an unknown path
  await api.get("/itemz");
  // @ts-expect-error: a path under the wrong verb (no PATCH /items/:id)
  await api.patch("/items/:id", { params: { id: 1 } });
  // @ts-expect-error: a path's params are required
  await api.get("/items/:id");
  // @ts-expect-error: a query value of the wrong type (tag is a string)
  await api.get("/items", { query: { tag: 5 } });
  // @ts-expect-error: an unknown query key
  await api.get("/items", { query: { page: 2 } });
  // @ts-expect-error: a declared header of the wrong type
  await api.post("/items", { body: { name: "pen" }, headers: { xShop: 1 } });
  // @ts-expect-error: data is the response schema's type
  const wrong: string | undefined = one.data;
  void wrong;
}

// Mounted apps carry their routes under the prefix; a reply() is checked against the route's schemas.
export async function mountedAndReplies(): Promise<void> {
  const { z } = await import("zod");
  const { App, reply } = await import("loopwise");
  const Item = z.object({ id: z.number() });
  const Gone = z.object({ detail: z.string(), since: z.string() });
  const v1 = new App().get("/things/:id", { response: Item, responses: { 410: Gone } }, async (req) =>
    req.params.id === "0" ? reply({ detail: "gone", since: "2026" }, { status: 410 }) : { id: 1 },
  );
  const root = new App().mount("/v1", v1);
  const api = createClient<typeof root>("http://127.0.0.1:8000");
  const { data, error } = await api.get("/v1/things/:id", { params: { id: 1 } });
  const id: number | undefined = data?.id;
  if (error && "since" in error) error.since.toUpperCase();
  // @ts-expect-error: the mounted route is under its prefix
  await api.get("/things/:id", { params: { id: 1 } });
  // @ts-expect-error: a reply() whose value the response schema refuses
  new App().get("/bad", { response: Item }, async () => reply({ id: "one" }));
  // @ts-expect-error: a declared status's schema refuses it too
  new App().get("/bad", { response: Item, responses: { 410: Gone } }, async () => reply({ detail: "gone" }, { status: 410 }));
  void id;
}

// The statement style: an app whose type has no routes gets an untyped client, any path allowed.
export async function untyped(): Promise<void> {
  const loose = createClient<typeof plain>("http://127.0.0.1:8000");
  const { data } = await loose.get("/anything", { query: { a: 1 } });
  const value: unknown = data;
  void value;
}

// The TestClient's answers: typed by the route a concrete path reaches, `any` where none does.
export async function testClient(client: TestClient<typeof app>): Promise<void> {
  const res = await client.get("/items/3");
  res.json().name.toUpperCase();
  // @ts-expect-error: an Item has no price
  res.json().price;
  const error = (await client.get("/items/999")).json<{ detail: string }>();
  error.detail.toUpperCase();
  (await client.get("/nowhere")).json().anything;
  const inMemory = createClient<typeof app>(client);
  await inMemory.get("/items/:id", { params: { id: 1 } });
}
export const started: Promise<TestClient<typeof app>> = TestClient.start(null as unknown as typeof app);
