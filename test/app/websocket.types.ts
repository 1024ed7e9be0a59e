// Compile-time checks (run by `npm run typecheck`): a WebSocket handler's connection is typed
// from its path and schemas, its dependencies' values from `deps`.
import { z } from "zod";
import { App, depends, type ServerWebSocket, type WebSocketMessage } from "loopwise";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expect = <T extends true>(_: T) => {};

const app = new App();
app.websocket("/rooms/:room", async (ws) => {
  const room: string = ws.params.room;
  // @ts-expect-error: no such parameter in the path
  ws.params.other;
  const message: WebSocketMessage = await ws.receive();
  const text: string = await ws.receiveText();
  const bytes: Uint8Array = await ws.receiveBytes();
  for await (const m of ws) expect<Equal<typeof m, string | Uint8Array>>(true);
  await ws.send(room + text + String(message) + bytes.length);
  ws.close(1000, "done");
});

const user = depends(async () => ({ name: "ada" }));
app.websocket(
  "/typed/:id",
  { params: z.object({ id: z.coerce.number() }), query: z.object({ q: z.string().optional() }), deps: { user } },
  async (ws, { user }) => {
    expect<Equal<typeof ws.params, { id: number }>>(true);
    expect<Equal<typeof ws.query, { q?: string | undefined }>>(true);
    expect<Equal<typeof user, { name: string }>>(true);
    expect<Equal<typeof ws.body, undefined>>(true);
  },
);

// The connection is a request too: a dependency written for `req` reads it.
const takesRequest = (ws: ServerWebSocket) => ws.headers["user-agent"];
app.websocket("/plain", (ws) => takesRequest(ws));

// @ts-expect-error: a WebSocket handler runs on the loop only
app.websocket("/bad", { lane: "worker" }, async () => {});
