// The app: `npm start` serves it (loopwise run main.ts:app), `npm test` tests it.
import { pbkdf2Sync } from "node:crypto";
import { z } from "zod";
import { App } from "loopwise";

export const app = new App();

// async: runs on the event loop, like FastAPI's `async def`.
app.get("/", async () => ({ message: "Hello World" }));

// Plain: runs on a worker thread, like FastAPI's `def`. Its blocking hash holds one worker, never the server.
app.get("/hash/:word", (req) => ({
  hash: pbkdf2Sync(req.params.word, "salt", 100_000, 32, "sha256").toString("hex"),
}));

// A validated body: anything else is a 422 naming the field.
const NewItem = z.object({ name: z.string().min(1), price: z.number().positive() });
app.post("/items", { body: NewItem, status: 201 }, async (req) => ({ id: 1, ...req.body }));
