// docs/errors.md: HttpError, what a crash looks like to the client, exception handlers.
import { App, HttpError, json } from "loopwise";

export const app = new App();

const items: Record<string, string> = { foo: "The Foo Wrestlers" };

app.get("/items/:id", async (req) => {
  const item = items[req.params.id];
  if (item === undefined) throw new HttpError(404, "Item not found", { "x-error": "no such item" });
  return { item };
});

// Any other error is a 500. The client learns nothing; the log gets the stack.
app.get("/broken", () => {
  throw new Error("the database password is hunter2");
});

// An error class of the app's own, answered the app's way on whichever lane raised it.
class OutOfStock extends Error {
  constructor(readonly sku: string) {
    super(`${sku} is out of stock`);
  }
}
app.exceptionHandler(OutOfStock, (error, req) => json({ detail: error.message, path: req.path }, { status: 409 }));

app.post("/orders/:sku", (req) => {
  if (req.params.sku === "pen") throw new OutOfStock("pen");
  return { ordered: req.params.sku };
});
