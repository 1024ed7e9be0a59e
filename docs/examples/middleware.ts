// docs/middleware.md: middleware of the app's own, per router, and the built-in ones.
import { App, Router, text } from "loopwise";
import { compression, cors, requestId, trustedHost } from "loopwise/middleware";

export const app = new App();

// Built in: a request id on every answer, CORS for one front end, compression.
app.use(requestId());
app.use(cors({ allowOrigins: ["http://localhost:5173"], allowHeaders: ["authorization", "content-type"] }));
app.use(compression());
app.use(trustedHost({ allowedHosts: ["localhost", "127.0.0.1", "*.example.com"] }));

// One of the app's own: how long each request took, in a response header.
app.use(async (_req, next) => {
  const started = performance.now();
  const response = await next();
  response.headers["server-timing"] = `app;dur=${(performance.now() - started).toFixed(1)}`;
  return response;
});

app.get("/notes", async () => ({ notes: Array.from({ length: 50 }, (_, id) => ({ id, title: `note ${id}` })) }));

// A router's middleware runs for its own routes only, and may answer early.
const admin = new Router({ prefix: "/admin" });
admin.use(async (req, next) => {
  if (req.headers.authorization !== "Bearer let-me-in") return text("Unauthorized", { status: 401 });
  return next();
});
admin.get("/stats", async (req) => ({ requestId: req.requestId }));
app.include(admin);
