import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createClient } from "loopwise/client";
import { TestClient } from "loopwise/testing";
import { app } from "./shop.ts";

let client: TestClient<typeof app>;
before(async () => {
  client = await TestClient.start(app);
});
after(() => client.close());

test("the typed client, over the app in memory", async () => {
  const api = createClient<typeof app>(client);

  const created = await api.post("/items", { body: { name: "Ink", price: 4 } });
  assert.equal(created.status, 201);
  assert.equal(created.data?.name, "Ink"); // data: { id: number; name: string; price: number } | undefined
  assert.equal(created.response.headers.get("location"), `/items/${created.data?.id}`);

  const missing = await api.get("/items/:id", { params: { id: 99 } });
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.error, { detail: "no item 99" });

  const invalid = await api.post("/items", { body: { name: "Free", price: 0 } });
  assert.equal(invalid.status, 422);

  const review = await api.get("/reviews/:itemId", { params: { itemId: 1 } });
  assert.equal(review.data?.stars, 4);
});

test("what does not compile", () => {
  const api = createClient<typeof app>("http://127.0.0.1:8000");
  const never = () => {
    // @ts-expect-error: price is a number
    api.post("/items", { body: { name: "Pen", price: "2.50" } });
    // @ts-expect-error: no such path
    api.get("/item/:id", { params: { id: 1 } });
    // @ts-expect-error: /items takes no GET
    api.get("/items");
  };
  assert.equal(typeof never, "function");
});

test("the TestClient's answers are typed too", async () => {
  const res = await client.get("/items/1");
  assert.equal(res.json().price, 2.5); // res.json(): Item
});
