// A small notes service of the kind FastAPI users build: the acceptance app of the HTTP-layer and
// real-app features. Serve it with `npx loopwise run examples/notes/main.ts:app`.
import { z } from "zod";
import { App, HTTPError, backgroundTask, backgroundTasks, compareSecrets, depends, httpBearer } from "loopwise";

export const app = new App({ title: "Notes" });

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
    throw new HTTPError(401, "Invalid token", { "www-authenticate": "Bearer" });
  }
});

// Runs after the response to POST /notes is sent, on the event loop (it is async).
const recordCreation = backgroundTask(async function recordCreation(noteId: number) {
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
