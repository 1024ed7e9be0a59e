// The classic FastAPI `def` vs `async def` experiment, as a Loopwise app.
//   npx loopwise run examples/seed/main.ts:app --port 8000
import { App, sleepSync } from "loopwise";

export const app = new App();
const ms = Number(process.env.SLEEP_MS ?? 10_000);

// Declared async: runs on the event loop, so its blocking sleep freezes the whole server.
app.get("/async/sleep", async () => {
  sleepSync(ms);
  return { message: `slept for ${ms} ms` };
});
// A plain function: runs on a worker thread, so its sleep holds only that worker.
app.get("/sync/sleep", () => {
  sleepSync(ms);
  return { message: `slept for ${ms} ms` };
});
app.get("/async/hello", async () => ({ message: "hello" }));
app.get("/sync/hello", () => ({ message: "hello" }));
