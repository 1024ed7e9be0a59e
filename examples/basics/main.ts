// The README's "Lanes" example, kept runnable and tested (test/examples.test.ts).
//   npx loopwise run examples/basics/main.ts:app --port 8000
import { pbkdf2Sync } from "node:crypto";
import { App, HttpError, blocking, json, offload } from "loopwise";

export const app = new App();

// Registered at the top level, so every worker registers it at the same position too.
const hash = blocking((password: string) => pbkdf2Sync(password, "salt", 100_000, 32, "sha256").toString("hex"));

app.post("/hash", async (req) => ({ hash: await offload(hash, String((req.body as any)?.password)) }));
app.get("/items/:id", (req) => {
  // plain → worker lane
  if (req.params.id === "0") throw new HttpError(404, "Item not found");
  return { id: req.params.id, tags: req.query.tag }; // ?tag=a&tag=b → ["a", "b"]
});
app.post("/items", { status: 201 }, async (req) => req.body); // JSON body, 201
app.get("/teapot", () => json({ short: true }, { status: 418, headers: { "x-kind": "teapot" } }));
