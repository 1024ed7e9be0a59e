// docs/shared-state.md: module-level state is per worker. A module-level `:memory:` database is
// one database per thread that imports the module: each worker has its own, empty at first.
import { threadId } from "node:worker_threads";
import Database from "better-sqlite3";
import { App, sleepSync } from "loopwise";

export const app = new App();

// Module level: every worker runs this line when it imports the app, and gets a database of its own.
const memory = new Database(":memory:");
memory.exec("CREATE TABLE notes (text TEXT NOT NULL)");

// Plain handlers: each runs on whichever worker is free, against that worker's database.
app.post("/notes", (req) => {
  sleepSync(20); // some blocking work, so concurrent requests spread over the workers
  memory.prepare("INSERT INTO notes (text) VALUES (?)").run(String(req.body));
  return { thread: threadId };
});
app.get("/notes/count", () => {
  sleepSync(20);
  const { n } = memory.prepare("SELECT count(*) AS n FROM notes").get() as { n: number };
  return { thread: threadId, n };
});
