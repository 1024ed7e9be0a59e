// docs/websockets.md: an echo, chat rooms with validated params, a dependency and a broadcast,
// blocking work offloaded from a WebSocket handler, and a page to chat from.
import { pbkdf2Sync } from "node:crypto";
import { z } from "zod";
import { App, HttpError, WebSocketError, blocking, closeCodes, depends, html, offload, type ServerWebSocket } from "loopwise";

export const app = new App();

// Each text message comes back as JSON. The loop ends when the client closes.
app.websocket("/ws/echo", async (ws) => {
  for await (const message of ws) await ws.sendJson({ echo: message });
});

// Who is in each room. WebSocket handlers all run on the event loop, so one Map serves them all.
const rooms = new Map<string, Set<ServerWebSocket>>();

// Runs before the connection is accepted: a refusal is an HTTP answer to the handshake.
const member = depends(async function member(req) {
  const name = String(req.query.name ?? "");
  if (name === "admin") throw new HttpError(403, "That name is taken");
  return { name };
});

// A slow member slows the speaker (each send is awaited); one that falls too far behind is dropped.
async function broadcast(room: Set<ServerWebSocket>, message: unknown) {
  const text = JSON.stringify(message);
  for (const peer of room) {
    if (peer.bufferedAmount > 1024 * 1024) peer.close(closeCodes.tryAgainLater, "Too far behind");
  }
  await Promise.allSettled([...room].map((peer) => peer.send(text)));
}

app.websocket(
  "/ws/rooms/:room",
  {
    params: z.object({ room: z.string().regex(/^[a-z0-9-]{1,32}$/) }),
    query: z.object({ name: z.string().min(1).max(20) }),
    deps: { member },
    maxMessageSize: 4096,
  },
  async (ws, { member }) => {
    const room = rooms.get(ws.params.room) ?? new Set();
    rooms.set(ws.params.room, room);
    room.add(ws);
    try {
      await broadcast(room, { from: "server", text: `${member.name} joined` });
      for await (const text of ws) {
        if (typeof text !== "string") throw new WebSocketError(closeCodes.unsupportedData, "Text messages only");
        await broadcast(room, { from: member.name, text });
      }
    } finally {
      room.delete(ws);
      if (room.size === 0) rooms.delete(ws.params.room);
      else await broadcast(room, { from: "server", text: `${member.name} left` });
    }
  },
);

// Blocking work from a WebSocket handler goes to the worker pool with offload().
const hash = blocking((text: string) => pbkdf2Sync(text, "salt", 100_000, 32, "sha256").toString("hex"));
app.websocket("/ws/hash", async (ws) => {
  for await (const message of ws) await ws.send(await offload(hash, String(message)));
});

// A page to chat from: open it in two tabs.
app.get("/", async () => html(page));
const page = `<!doctype html>
<meta charset="utf-8"><title>Loopwise chat</title>
<form id="join">Name <input id="name" required maxlength="20"> <button>Join the lobby</button></form>
<form id="say" hidden><input id="text" autocomplete="off"> <button>Send</button></form>
<ul id="log"></ul>
<script>
  let ws;
  const log = (text) => document.getElementById("log").append(Object.assign(document.createElement("li"), { textContent: text }));
  document.getElementById("join").onsubmit = (event) => {
    event.preventDefault();
    const name = encodeURIComponent(document.getElementById("name").value);
    ws = new WebSocket("ws://" + location.host + "/ws/rooms/lobby?name=" + name);
    ws.onopen = () => { document.getElementById("join").hidden = true; document.getElementById("say").hidden = false; };
    ws.onmessage = (event) => { const m = JSON.parse(event.data); log(m.from + ": " + m.text); };
    ws.onclose = (event) => log("closed (" + event.code + ")");
  };
  document.getElementById("say").onsubmit = (event) => {
    event.preventDefault();
    ws.send(document.getElementById("text").value);
    document.getElementById("text").value = "";
  };
</script>`;
