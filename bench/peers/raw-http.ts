// The floor: node:http with no framework at all.
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { announce, serverStats } from "./stats.ts";

// RAW_ASYNC=1: the answer comes from an async handler and is made JSON per request, as in any
// framework, instead of once at startup: what that alone costs node:http.
const hello = JSON.stringify({ message: "hello" });
const handler = async () => ({ message: "hello" });
const send = (res: ServerResponse, body: string) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
};
const server = createServer((req, res) => {
  if (req.url?.startsWith("/stats")) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(serverStats(req.url.includes("reset"))));
    return;
  }
  if (process.env.RAW_ASYNC) void handler().then((value) => send(res, JSON.stringify(value)));
  else send(res, hello);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => announce(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
