// The floor: node:http with no framework at all.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { announce, serverStats } from "./stats.ts";

const hello = JSON.stringify({ message: "hello" });
const server = createServer((req, res) => {
  if (req.url?.startsWith("/stats")) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(serverStats(req.url.includes("reset"))));
    return;
  }
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(hello) });
  res.end(hello);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => announce(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
