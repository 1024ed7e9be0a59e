// docs/background-tasks.md: work that runs after the response is sent, on the lane its function asks for.
import { appendFileSync, writeFileSync } from "node:fs";
import { appendFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, backgroundFunction, backgroundTasks, depends } from "loopwise";

export const app = new App();

// Every thread writes here, so every thread finds the same file (module variables are per thread).
const logFile = join(tmpdir(), `loopwise-background-tasks-${process.pid}.log`);
app.onStartup(() => writeFileSync(logFile, ""));

// Plain: it blocks (a synchronous write, an SMTP client), so it runs on the worker pool.
const writeNotification = backgroundFunction(function writeNotification(email: string, message: string) {
  appendFileSync(logFile, `notification for ${email}: ${message}\n`);
});

app.post("/send-notification/:email", { deps: { tasks: backgroundTasks } }, async function sendNotification(req, { tasks }) {
  tasks.add(writeNotification, req.params.email, "some notification");
  return { message: "Notification sent in the background" };
});

// Async: it runs on the event loop, after the response.
const writeLog = backgroundFunction(async function writeLog(line: string) {
  await appendFile(logFile, `${line}\n`);
});

// A dependency can add tasks too: it gets the same `tasks` as the handler.
const logQuery = depends({ deps: { tasks: backgroundTasks } }, async function logQuery(req, { tasks }) {
  if (typeof req.query.q === "string") tasks.add(writeLog, `found query: ${req.query.q}`);
});

// A plain handler, on a worker: its tasks go back with its response and run by the same rule.
app.post("/send-report/:email", { dependencies: [logQuery], deps: { tasks: backgroundTasks } }, function sendReport(req, { tasks }) {
  tasks.add(writeNotification, req.params.email, "your report");
  return { message: "Report on its way" };
});

app.get("/log", async () => (await readFile(logFile, "utf8")).split("\n").filter(Boolean));
