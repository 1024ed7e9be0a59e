// docs/testing.md: a per-worker SQLite connection whose file a test chooses (BOOKS_DB).
import Database from "better-sqlite3";
import { z } from "zod";
import { App, depends } from "loopwise";

export const app = new App();

// Read when the app starts, not when the module is imported: a test imports this module first,
// then sets BOOKS_DB, then starts the app (each worker reads it in onWorkerStart).
const databaseFile = () => process.env.BOOKS_DB ?? "books.db";

// The main thread makes the tables before any worker starts (FastAPI's startup order).
app.onStartup(() => {
  const setup = new Database(databaseFile());
  setup.exec("CREATE TABLE IF NOT EXISTS books (id INTEGER PRIMARY KEY, title TEXT NOT NULL)");
  setup.close();
});

// Then each worker opens its own connection to the same file.
let connection: Database.Database | undefined;
app.onWorkerStart(() => {
  connection = new Database(databaseFile());
  connection.pragma("journal_mode = WAL");
  connection.pragma("busy_timeout = 5000");
});
const db = depends(function db() {
  if (!connection) throw new Error("no connection here: use db from plain (worker-lane) routes");
  return connection;
});

const NewBook = z.object({ title: z.string().min(1) });
app.post("/books", { body: NewBook, status: 201, deps: { db } }, (req, { db }) => ({
  id: Number(db.prepare("INSERT INTO books (title) VALUES (?)").run(req.body.title).lastInsertRowid),
}));
app.get("/books/count", { deps: { db } }, (_req, { db }) => db.prepare("SELECT count(*) AS n FROM books").get());
