// docs/before-it-ships.md: an app `loopwise check` finds clean, with one deliberate exception.
import { pbkdf2Sync } from "node:crypto";
import { readFileSync } from "node:fs";
import { App, blocking, offload } from "loopwise";

export const app = new App();

// The blocking call goes to the pool: the async handler only awaits it.
const hashPassword = blocking((password: string) => pbkdf2Sync(password, "salt", 100_000, 32, "sha256").toString("hex"));
app.post("/signup/:name", async (req) => ({ user: req.params.name, hash: await offload(hashPassword, "secret") }));

// A plain handler runs on a worker: it may block.
app.get("/notes", () => ({ notes: readFileSync(new URL("../files/notes.txt", import.meta.url), "utf8") }));

// A few bytes, read once and kept: blocking, but deliberate, and marked so.
let motd: string | undefined;
app.get("/motd", async () => {
  // loopwise-allow-blocking: read once, then served from memory.
  motd ??= readFileSync(new URL("../files/notes.txt", import.meta.url), "utf8").split("\n")[0];
  return { motd };
});
