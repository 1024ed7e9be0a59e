// The `serialise` scenario's answer, the same for every peer: an order of 21 fields with a nested
// array of 5 items, declared by one Zod schema (Loopwise's `response`) and its JSON Schema
// (Fastify's response schema, compiled by fast-json-stringify).
import { z } from "zod";

const Item = z.object({ sku: z.string(), name: z.string(), quantity: z.number().int(), price: z.number(), tags: z.array(z.string()) });

export const Order = z.object({
  id: z.number().int(),
  reference: z.string(),
  status: z.enum(["pending", "paid", "shipped"]),
  customerId: z.number().int(),
  customerName: z.string(),
  email: z.string(),
  currency: z.string(),
  subtotal: z.number(),
  tax: z.number(),
  shipping: z.number(),
  total: z.number(),
  paid: z.boolean(),
  gift: z.boolean(),
  note: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  street: z.string(),
  city: z.string(),
  postcode: z.string(),
  country: z.string(),
  items: z.array(Item),
});

/** The same schema for Fastify (without `$schema`, which its response schemas do not take). */
export const orderJsonSchema = (() => {
  const { $schema: _, ...schema } = z.toJSONSchema(Order, { io: "output" });
  return schema;
})();

export const order: z.infer<typeof Order> = {
  id: 1042,
  reference: "ORD-2024-001042",
  status: "paid",
  customerId: 77,
  customerName: "Ada Lovelace",
  email: "ada@example.com",
  currency: "EUR",
  subtotal: 118.5,
  tax: 23.7,
  shipping: 4.9,
  total: 147.1,
  paid: true,
  gift: false,
  note: null,
  createdAt: "2024-05-01T10:00:00.000Z",
  updatedAt: "2024-05-02T08:30:00.000Z",
  street: "12 Analytical Row",
  city: "London",
  postcode: "N1 9GU",
  country: "GB",
  items: Array.from({ length: 5 }, (_, i) => ({
    sku: `SKU-${i}`,
    name: `Item number ${i}`,
    quantity: i + 1,
    price: 9.99 + i,
    tags: ["new", "sale"],
  })),
};
