// The notes service's WebSocket (item 8 of its contract): /ws/echo answers each text message m
// with the JSON text {"echo": m}. main.ts adds it with `app.include(echoSocket)`.
import { Router } from "loopwise";

export const echoSocket = new Router();

// Ends when the client closes (receiveText() then raises WebSocketDisconnect, a normal end);
// a binary message closes the connection with 1003.
echoSocket.websocket("/ws/echo", async function echo(ws) {
  for (;;) await ws.sendJson({ echo: await ws.receiveText() });
});
