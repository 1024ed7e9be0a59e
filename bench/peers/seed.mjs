// The seed app (examples/seed/main.ts) as plain JavaScript: what a worker costs with no TypeScript at all.
import { App, sleepSync } from "loopwise";

export const app = new App();
const ms = Number(process.env.SLEEP_MS ?? 10_000);

app.get("/async/sleep", async () => {
  sleepSync(ms);
  return { message: `slept for ${ms} ms` };
});
app.get("/sync/sleep", () => {
  sleepSync(ms);
  return { message: `slept for ${ms} ms` };
});
app.get("/async/hello", async () => ({ message: "hello" }));
app.get("/sync/hello", () => ({ message: "hello" }));
