import { pbkdf2Sync } from "node:crypto";
import { App } from "loopwise";

export const app = new App();

// async: runs on the event loop, like FastAPI's `async def`.
app.get("/", async () => ({ message: "Hello World" }));

// Plain: runs on a worker thread, like FastAPI's `def`. Its blocking hash holds one worker, never the server.
app.get("/hash/:word", (req) => ({
  hash: pbkdf2Sync(req.params.word, "salt", 100_000, 32, "sha256").toString("hex"),
}));
