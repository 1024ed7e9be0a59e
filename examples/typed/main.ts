// The README's typed-requests examples, kept runnable and tested (test/examples.test.ts).
//   npx loopwise run examples/typed/main.ts:app --port 8000   then open http://127.0.0.1:8000/docs
import { z } from "zod";
import { App, HttpError, Router, depends, json } from "loopwise";

export const app = new App({ title: "Shop", version: "1.0.0" });

// --- Declared inputs ---
const SearchQuery = z.object({
  q: z.string().min(1),
  limit: z.number().int().min(1).max(100).default(10), // "?limit=5" arrives as the number 5
  inStock: z.boolean().optional(), // "?inStock=true" → true
  tag: z.array(z.string()).default([]), // "?tag=a&tag=b" → ["a", "b"]
});
const NewItem = z.object({ name: z.string().min(1), price: z.number().positive() });
const Item = z.object({ id: z.number(), name: z.string(), price: z.number() });

app.get("/search", { query: SearchQuery, tags: ["items"] }, async function searchItems(req) {
  const { q, limit, tag } = req.query; // typed: string, number, string[]
  return { q, limit, tag };
});

app.post("/items", { body: NewItem, response: Item, status: 201, tags: ["items"] }, function createItem(req) {
  return { id: 1, ...req.body, internalNote: "stripped by the response schema" };
});

app.get("/items/:id", { params: z.object({ id: z.number().int() }), tags: ["items"] }, async function readItem(req) {
  return { id: req.params.id }; // a number, not a string
});
// --- end ---

// --- Dependencies ---
/** A per-request resource: the code after `yield` runs once the response is ready. */
export const closed: string[] = [];
const session = depends(async function* session() {
  const s = { id: Math.random().toString(36).slice(2) };
  try {
    yield s;
  } finally {
    closed.push(s.id);
  }
});

/** Plain (so on the pool for a loop route): must return plain data. Throws HttpError to refuse. */
const currentUser = depends(function currentUser(req) {
  if (req.headers.authorization !== "Bearer secret") {
    throw new HttpError(401, "Not authenticated", { "www-authenticate": "Bearer" });
  }
  return { name: "ada", admin: true };
});

/** Sub-dependencies arrive as the second argument; each runs once per request. */
const audit = depends({ deps: { user: currentUser, session } }, async (req, { user, session }) => ({
  who: user.name,
  session: session.id,
  path: req.path,
}));

app.get("/me", { deps: { user: currentUser, audit } }, async (_req, { user, audit }) => ({ user, audit }));

const requireAdmin = depends({ deps: { user: currentUser } }, async (_req, { user }) => {
  if (!user.admin) throw new HttpError(403, "Admins only");
});
const admin = new Router({ prefix: "/admin", dependencies: [requireAdmin], tags: ["admin"] });
admin.get("/stats", async () => ({ users: 1 }));
app.include(admin);
// --- end ---

// --- Errors ---
class OutOfStock extends Error {}

app.exceptionHandler(OutOfStock, (error, req) => json({ detail: error.message, path: req.path }, { status: 409 }));

app.post("/orders/:sku", async (req) => {
  if (req.params.sku === "pen") throw new OutOfStock("pens are out of stock");
  return { ordered: req.params.sku };
});
// --- end ---
