// The floor for WebSockets: node:http and the `ws` library, no framework. Its /ws/lazy handler
// keeps every message for later, as a handler that reads slowly does with plain `ws` (whose
// 'message' events come as fast as the socket delivers them).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { announce, serverStats } from "./stats.ts";

const server = createServer((req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(serverStats(req.url?.includes("reset") ?? false)));
});
const sockets = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
server.on("upgrade", (req, socket, head) => {
  sockets.handleUpgrade(req, socket, head, (ws) => {
    if (req.url === "/ws/echo") ws.on("message", (data, isBinary) => ws.send(isBinary ? data : JSON.stringify({ echo: String(data) })));
    else {
      const unread: unknown[] = [];
      ws.on("message", (data) => unread.push(data));
    }
  });
});
server.listen(0, "127.0.0.1", () => announce(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
