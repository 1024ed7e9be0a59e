// A small notes service of the kind FastAPI users build: the acceptance app of the HTTP-layer and
// real-app features. Serve it with `npx loopwise run examples/notes/main.ts:app`.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { App, HttpError, backgroundFunction, backgroundTasks, depends, sse } from "loopwise";
import { compareSecrets, httpBearer } from "loopwise/security";
import { compression, cors, requestId } from "loopwise/middleware";
import { attachments } from "./attachments.ts";
import { echoSocket } from "./websocket.ts";

export const app = new App({ title: "Notes" });

// Every answer carries an X-Request-ID (the client's, or a new one); the browser front end on
// localhost:5173 may call the API; JSON over 1 KB goes out compressed.
app.use(requestId());
app.use(cors({ allowOrigins: ["http://localhost:5173"], allowHeaders: ["authorization", "content-type"] }));
app.use(compression());

interface Note {
  id: number;
  title: string;
  body: string;
}

// The handlers that touch these are async, so they all run on the main thread: one copy of each.
const notes: Note[] = [];
const audit: { at: string; event: string; noteId: number }[] = [];

app.get("/health", async function health() {
  return { status: "ok" };
});

// Writing needs `Authorization: Bearer secret-token`; the scheme shows in /openapi.json and /docs.
const bearer = httpBearer();
const writer = depends({ deps: { auth: bearer } }, async function writer(_req, { auth }) {
  if (!compareSecrets(auth.credentials, process.env.NOTES_TOKEN ?? "secret-token")) {
    throw new HttpError(401, "Invalid token", { "www-authenticate": "Bearer" });
  }
});

// Runs after the response to POST /notes is sent, on the event loop (it is async).
const recordCreation = backgroundFunction(async function recordCreation(noteId: number) {
  audit.push({ at: new Date().toISOString(), event: "note created", noteId });
});

const NewNote = z.object({ title: z.string(), body: z.string() });

app.post(
  "/notes",
  { body: NewNote, status: 201, dependencies: [writer], deps: { tasks: backgroundTasks } },
  async function createNote(req, { tasks }) {
    const note: Note = { id: notes.length + 1, title: req.body.title, body: req.body.body };
    notes.push(note);
    tasks.add(recordCreation, note.id);
    return note;
  },
);

app.get("/notes", async function listNotes() {
  return notes;
});

app.get("/audit", async function readAudit() {
  return audit;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Server-sent events: n events 300 ms apart, the first at once.
app.get("/notes/events", { query: z.object({ n: z.number().int().min(1).max(100).default(3) }) }, async function noteEvents(req) {
  return sse(
    (async function* () {
      for (let i = 0; i < req.query.n; i++) {
        if (i > 0) await sleep(300);
        yield { event: "note-count", id: i, data: { count: notes.length } };
      }
    })(),
  );
});

// Files attached to notes: kept under NOTES_DIR, one folder per note.
const dir = process.env.NOTES_DIR ?? join(tmpdir(), "loopwise-notes");
app.include(attachments({ dir, hasNote: (id) => notes.some((note) => note.id === id) }));

app.include(echoSocket);
