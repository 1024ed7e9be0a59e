// The Loopwise side of every scenario, started with `loopwise run` like a user's app.
import { z } from "zod";
import { App, sleepSync, staticFiles } from "loopwise";
import { compression, cors, requestId } from "loopwise/middleware";
import { burnCpu } from "./burn.ts";
import { Order, order } from "./order.ts";
import { serverStats } from "./stats.ts";

export const app = new App();
// The middleware scenario: none (the default), one that does nothing, or a typical stack.
if (process.env.BENCH_MIDDLEWARE === "noop") app.use((_req, next) => next());
if (process.env.BENCH_MIDDLEWARE === "stack") app.use(requestId(), cors({ allowOrigins: ["http://localhost:5173"] }), compression());
app.get("/hello", async () => ({ message: "hello" }));
// Validated against the schema, then written by the writer compiled from it (the serialise scenario).
app.get("/order", { response: Order }, async () => order);
app.get("/order-unchecked", async () => order);
// Plain functions: the worker lane.
app.get("/trivial", () => ({ message: "trivial" }));
app.get("/burn", () => ({ result: burnCpu() }));
app.get("/burn-short", () => ({ result: burnCpu(0.02) }));
app.get("/burn-300ms", () => ({ result: burnCpu(3) }));
app.get("/slow", () => {
  sleepSync(50);
  return { message: "slow" };
});
app.post("/echo", async (req) => ({ received: req.body }));
app.get("/items/:id", async (req) => ({ id: req.params.id, q: req.query.q ?? null }));
app.get("/validated", { query: z.object({ limit: z.number().int().min(1).max(100), q: z.string().max(50).optional() }) }, async (req) => ({
  message: "hello",
  limit: req.query.limit,
}));
// A file spooled to disk, its size answered (the uploads scenario).
app.post("/upload", { formLimits: { maxFileSize: 30 * 1024 * 1024 } }, async (req) => ({
  size: Object.values(req.body as Record<string, File>).reduce((total, file) => total + file.size, 0),
}));
app.get("/stats", async (req) => serverStats("reset" in req.query));
// The files scenario: a directory of its own, served as a user would.
if (process.env.BENCH_FILES_DIR) app.mount("/static", staticFiles(process.env.BENCH_FILES_DIR));
// WebSockets: an echo, and a handler that reads nothing for a minute (its sender is slowed by TCP).
app.websocket("/ws/echo", async (ws) => {
  for await (const message of ws) await ws.send(typeof message === "string" ? JSON.stringify({ echo: message }) : message);
});
app.websocket("/ws/lazy", async (ws) => {
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  ws.close();
});
