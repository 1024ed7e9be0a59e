// Files: a file as the answer (FastAPI's FileResponse), a directory of static files mounted
// under a prefix (Starlette's StaticFiles), and another app mounted under a prefix.
import { App, file, staticFiles } from "loopwise";

export const app = new App();

// A file as the answer, offered as a download under a name of its own.
app.get("/report", async () => file(new URL("./static/report.csv", import.meta.url), { filename: "report-2026.csv" }));

// A plain handler can return one too: it runs on a worker, and the file is opened and sent
// from the main thread.
app.get("/report/inline", () => file(new URL("./static/report.csv", import.meta.url)));

// Every file under ./static at /static/...; a directory's index.html at its path with a slash.
app.mount("/static", staticFiles(new URL("./static", import.meta.url), { cacheControl: "public, max-age=3600" }));

// Another app: its routes under /v1, with its middleware, exception handlers and docs (/v1/docs).
const v1 = new App({ title: "Reports API", version: "1.0.0" });
v1.use(async (_req, next) => {
  const response = await next();
  response.headers["x-api-version"] = "1";
  return response;
});
v1.get("/status", async () => ({ version: 1 }));
app.mount("/v1", v1);
