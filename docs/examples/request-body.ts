// docs/request-body.md: bodies by content type, a declared body, a response schema, 415, a PATCH.
import { z } from "zod";
import { App } from "loopwise";

export const app = new App();

// Without a schema the body is parsed by its Content-Type: JSON, form fields, text or bytes.
app.post("/echo", async (req) => ({
  type: req.headers["content-type"] ?? null,
  body: req.body instanceof Uint8Array ? `${req.body.length} bytes` : req.body,
}));

const NewItem = z.object({
  name: z.string().min(1),
  price: z.number().positive(),
  tags: z.array(z.string()).default([]),
});
const Item = NewItem.extend({ id: z.number() });

// `body` validates the request, `response` what goes back (Zod drops undeclared fields).
app.post("/items", { body: NewItem, response: Item, status: 201 }, async (req) => ({
  id: 1,
  ...req.body,
  costPrice: 0.2, // not in Item: never sent
}));

// `accepts` limits the media types: anything but JSON gets a 415.
app.put("/items/:id", { body: NewItem, accepts: ["application/json"] }, async (req) => ({
  id: Number(req.params.id),
  ...req.body,
}));

// A partial update validates only the fields sent (FastAPI's `exclude_unset`): every field
// optional, none with a default, so what was not sent is not in req.body.
const ItemFields = z.object({ name: z.string().min(1), price: z.number().positive(), tags: z.array(z.string()) });
const ItemPatch = ItemFields.partial();
const stored = { id: 1, name: "pen", price: 1.5, tags: ["office"] };

app.patch("/items/:id", { body: ItemPatch, response: Item }, async (req) => ({ ...stored, ...req.body }));
