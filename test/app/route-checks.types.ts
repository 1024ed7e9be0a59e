// Compile-time checks (run by `npm run typecheck`): what the app refuses at registration, the
// types refuse too where they can: a params key not in the path, a body on a 204 or 304 route.
import { App, json, Router } from "loopwise";
import { z } from "zod";

const app = new App();
const BookId = z.object({ bookId: z.coerce.number() });

app.get("/books/:bookId", { params: BookId }, (req) => req.params.bookId);
// @ts-expect-error: "bookId" is not a parameter of /books/:id
app.get("/books/:id", { params: BookId }, (req) => req.params.bookId);
// A router's prefix may hold parameters its type does not know: the app checks at include().
new Router({ prefix: "/shelves/:bookId" }).get("/", { params: BookId }, (req) => req.params.bookId);

app.delete("/books/:bookId", { params: BookId, status: 204 }, () => {});
app.delete("/shelves/:bookId", { params: BookId, status: 204 }, async () => undefined);
app.get("/cached", { status: 304 }, () => json(null, { status: 304 }));
// @ts-expect-error: a 204 route returns no body
app.delete("/covers/:bookId", { params: BookId, status: 204 }, () => ({ deleted: true }));
// @ts-expect-error: nor does an async one
app.delete("/notes/:bookId", { params: BookId, status: 204 }, async () => ({ deleted: true }));
// @ts-expect-error: a 204 route declares no response body
app.delete("/tags/:bookId", { params: BookId, status: 204, response: z.object({ ok: z.boolean() }) }, () => {});
// A status known only at run time is not checked here (the app checks at registration).
const status: number = 200;
app.get("/anything", { status }, () => ({ ok: true }));
