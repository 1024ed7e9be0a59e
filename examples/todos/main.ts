// A CRUD API on SQLite: the synchronous better-sqlite3 driver in worker-lane routes (one
// connection per worker, WAL mode), async routes for the rest, validated input, docs at /docs.
//   TODOS_DB=todos.db npx loopwise run examples/todos/main.ts:app --port 8000
import Database from "better-sqlite3";
import { threadId } from "node:worker_threads";
import { z } from "zod";
import { App, HttpError, depends } from "loopwise";

export const app = new App({ title: "Todos", version: "1.0.0", description: "A CRUD example on SQLite." });

const Todo = z.object({ id: z.number().int(), title: z.string(), done: z.boolean() });
const TodoFields = z.object({ title: z.string().trim().min(1).max(200), done: z.boolean() });
const NewTodo = TodoFields.extend({ done: TodoFields.shape.done.default(false) });
// A PATCH validates only what was sent (FastAPI's exclude_unset): every field optional and none
// with a default, so a field left out stays out of req.body instead of resetting the stored one.
const TodoPatch = TodoFields.partial();
const TodoId = z.object({ id: z.number().int().positive() });
const ListQuery = z.object({
  done: z.boolean().optional(),
  limit: z.number().int().min(1).max(1000).default(100),
  offset: z.number().int().min(0).default(0),
});

const databaseFile = () => process.env.TODOS_DB ?? "todos.db";

// The schema, made once on the main thread at startup: onStartup hooks finish before any worker starts.
app.onStartup(() => {
  const setup = new Database(databaseFile());
  setup.pragma("journal_mode = WAL"); // readers do not wait for the writer (a setting of the file)
  setup.exec("CREATE TABLE IF NOT EXISTS todos (id INTEGER PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0)");
  setup.close();
});

// One connection per worker, opened before the worker takes requests. The synchronous driver
// blocks only its own worker, never the event loop.
let connection: Database.Database | undefined;
app.onWorkerStart(() => {
  connection = new Database(databaseFile());
  connection.pragma("busy_timeout = 5000"); // writers from other workers take turns instead of failing
});

// A plain dependency: on a worker-lane route it runs in that route's worker, next to its connection.
const db = depends(function db() {
  if (!connection) throw new Error("no database connection in this thread: use the db dependency from plain (worker-lane) routes");
  return connection;
});

type Row = { id: number; title: string; done: number };
const toTodo = (row: Row) => ({ id: row.id, title: row.title, done: row.done === 1 });

function find(conn: Database.Database, id: number) {
  const row = conn.prepare("SELECT id, title, done FROM todos WHERE id = ?").get(id) as Row | undefined;
  if (!row) throw new HttpError(404, "Todo not found");
  return toTodo(row);
}

app.post("/todos", { body: NewTodo, response: Todo, status: 201, deps: { db }, tags: ["todos"] }, function createTodo(req, { db }) {
  const { lastInsertRowid } = db.prepare("INSERT INTO todos (title, done) VALUES (?, ?)").run(req.body.title, req.body.done ? 1 : 0);
  return { id: Number(lastInsertRowid), title: req.body.title, done: req.body.done };
});

app.get("/todos", { query: ListQuery, response: z.array(Todo), deps: { db }, tags: ["todos"] }, function listTodos(req, { db }) {
  const { done, limit, offset } = req.query;
  const rows =
    done === undefined
      ? db.prepare("SELECT id, title, done FROM todos ORDER BY id LIMIT ? OFFSET ?").all(limit, offset)
      : db.prepare("SELECT id, title, done FROM todos WHERE done = ? ORDER BY id LIMIT ? OFFSET ?").all(done ? 1 : 0, limit, offset);
  return (rows as Row[]).map(toTodo);
});

app.get("/todos/:id", { params: TodoId, response: Todo, deps: { db }, tags: ["todos"] }, function readTodo(req, { db }) {
  return find(db, req.params.id);
});

app.patch("/todos/:id", { params: TodoId, body: TodoPatch, response: Todo, deps: { db }, tags: ["todos"] }, function updateTodo(req, { db }) {
  const todo = { ...find(db, req.params.id), ...req.body };
  db.prepare("UPDATE todos SET title = ?, done = ? WHERE id = ?").run(todo.title, todo.done ? 1 : 0, todo.id);
  return todo;
});

app.delete("/todos/:id", { params: TodoId, status: 204, deps: { db }, tags: ["todos"] }, function deleteTodo(req, { db }) {
  if (db.prepare("DELETE FROM todos WHERE id = ?").run(req.params.id).changes === 0) throw new HttpError(404, "Todo not found");
});

// Async routes stay on the event loop: nothing here blocks.
app.get("/health", { tags: ["meta"] }, async function health() {
  return { status: "ok", thread: threadId };
});
