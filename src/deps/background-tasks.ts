// The `backgroundTasks` dependency: one BackgroundTasks per request, shared by the handler and
// every dependency that asks for it, and found again by the request once the handler is done.
import type { HttpRequest } from "../http/request.js";
import { BackgroundTasks, type BackgroundEntry } from "../threads/background-tasks.js";
import { makeDependency, type Dependency } from "./dependency.js";

const byRequest = new WeakMap<object, BackgroundTasks>();

/**
 * A dependency whose value is the request's BackgroundTasks (FastAPI's `BackgroundTasks`
 * parameter). It runs wherever the route's handler runs: the tasks added on a worker come back
 * with the response.
 *
 *     app.post("/notes", { deps: { tasks: backgroundTasks } }, async (req, { tasks }) => { tasks.add(audit, id) });
 */
export const backgroundTasks = makeDependency(
  function backgroundTasks(req: HttpRequest) {
    const tasks = new BackgroundTasks();
    byRequest.set(req, tasks);
    return tasks;
  },
  // Named here: in the bundled package the function's own name may be changed (a clash with the const).
  { lane: "loop", name: "backgroundTasks" },
) as Dependency<BackgroundTasks>;

/** The tasks the request's handler and dependencies added, if any (a copy: later additions are not run). */
export function backgroundOf(req: HttpRequest): BackgroundEntry[] | undefined {
  const entries = byRequest.get(req)?.entries;
  return entries && entries.length > 0 ? [...entries] : undefined;
}
