// docs/lanes.md: where handlers run, offload(), time limits, bulkheads.
import { pbkdf2Sync } from "node:crypto";
import { isMainThread } from "node:worker_threads";
import { App, Bulkhead, blocking, offload, sleepSync, text } from "loopwise";

export const app = new App();

// Decided once, when the route is registered:
app.get("/where/async", async () => ({ mainThread: isMainThread })); // async: the event loop
app.get("/where/plain", () => ({ mainThread: isMainThread })); // plain: a worker thread
app.get("/where/forced", { lane: "loop" }, () => ({ mainThread: isMainThread })); // the option wins

// An async handler hands just its blocking call to the pool (Starlette's run_in_threadpool).
const hash = blocking((password: string) => pbkdf2Sync(password, "salt", 100_000, 32, "sha256").toString("hex"));
app.get("/hash/:password", async (req) => ({ hash: await offload(hash, req.params.password) }));

// Past its time limit a request gets a 504; a worker-lane handler is stopped with its worker.
app.get("/hang", { timeout: 500 }, () => {
  for (;;);
});

// A slow plain handler: it holds one worker for a second.
app.get("/slow", () => {
  sleepSync(1000);
  return { done: true };
});

// Bulkheads: at most 2 reports run at once, and one download of either kind.
app.get("/report", { concurrency: 2 }, () => {
  sleepSync(200);
  return { report: "ready" };
});
const downloads = new Bulkhead(1);
app.get("/download/csv", { bulkhead: downloads }, () => text("id,name\n"));
app.get("/download/json", { bulkhead: downloads }, () => []);
