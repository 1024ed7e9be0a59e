// The peer for static files: node:http with `send` (what Express's static middleware runs on),
// serving BENCH_FILES_DIR under /static.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import send from "send";
import { announce, serverStats } from "./stats.ts";

const root = process.env.BENCH_FILES_DIR;
if (!root) throw new Error("BENCH_FILES_DIR is not set");

const server = createServer((req, res) => {
  if (req.url?.startsWith("/stats")) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(serverStats(req.url.includes("reset"))));
    return;
  }
  if (!req.url?.startsWith("/static/")) {
    res.writeHead(404).end();
    return;
  }
  send(req, req.url.slice("/static".length), { root })
    .on("error", (error: { status?: number }) => res.writeHead(error.status ?? 500).end())
    .pipe(res);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => announce(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
