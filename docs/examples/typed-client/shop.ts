import { z } from "zod";
import { App, HttpError, reply, Router } from "loopwise";

// Named schemas: each is a component of /openapi.json, and a named type in generated clients.
const Item = z.object({ id: z.number().int(), name: z.string(), price: z.number().positive() }).meta({ id: "Item" });
const NewItem = Item.omit({ id: true }).meta({ id: "NewItem" });
const NotFound = z.object({ detail: z.string() }).meta({ id: "NotFound" });

const items = new Map([[1, { id: 1, name: "Pen", price: 2.5 }]]);

const reviews = new Router({ prefix: "/reviews", tags: ["reviews"] }).get("/:itemId", async (req) => ({
  itemId: Number(req.params.itemId),
  stars: 4,
}));

// Chained: the app's type carries every route, for createClient<typeof app>().
export const app = new App({
  title: "Shop",
  version: "1.0.0",
  license: { name: "MIT", identifier: "MIT" },
  tags: [{ name: "reviews", description: "What buyers say" }],
})
  .get("/items/:id", { params: z.object({ id: z.coerce.number().int() }), response: Item, responses: { 404: NotFound } }, async (req) => {
    const item = items.get(req.params.id);
    if (!item) return reply({ detail: `no item ${req.params.id}` }, { status: 404 });
    return item;
  })
  .post("/items", { body: NewItem, response: Item }, async (req) => {
    const item = { id: items.size + 1, ...req.body };
    items.set(item.id, item);
    // The status and header of our choosing; the body still checked by `response`.
    return reply(item, { status: 201, headers: { location: `/items/${item.id}` } });
  })
  .delete("/items/:id", { params: z.object({ id: z.coerce.number().int() }), status: 204 }, async (req) => {
    if (!items.delete(req.params.id)) throw new HttpError(404, "no such item");
  })
  .include(reviews);
