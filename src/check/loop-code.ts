// Which of an app's functions run on the event loop, read from the route table the app itself
// built: the lane each route got by the lane rule (or its `lane` option), its dependencies'
// lanes, middleware and WebSocket handlers. So the check and the server never disagree on where
// a function runs.
import type { App } from "../app/app.js";
import { handlerLane } from "../app/router.js";
import type { Dependency } from "../deps/dependency.js";
import { laneOf } from "../threads/lane.js";

export type LoopCodeKind = "handler" | "dependency" | "middleware" | "websocket";

/** A function that runs on the event loop, with the routes it serves and how to move its blocking calls off. */
export interface LoopCode {
  fn: Function;
  kind: LoopCodeKind;
  name: string;
  /** "GET /users/:id", "WEBSOCKET /ws", or "every request" for the app's own middleware. */
  routes: string[];
  fix: string;
}

const offloadAdvice = "move the blocking call into a function registered with blocking() and await offload(fn, ...args)";

/**
 * Collects functions with the routes they serve: a function several routes share (one made by a
 * factory, a shared dependency) is one entry with every route.
 */
function functionCollector<T extends { fn: Function; routes: string[] }>() {
  const found = new Map<Function, T>();
  const add = (fn: Function, route: string, make: () => Omit<T, "routes">) => {
    const known = found.get(fn);
    if (known) {
      if (!known.routes.includes(route)) known.routes.push(route);
    } else found.set(fn, { ...make(), routes: [route] } as T);
  };
  return { add, all: () => [...found.values()] };
}

export function loopCodeOf(app: App): LoopCode[] {
  const found = functionCollector<LoopCode>();
  const add = (fn: Function, kind: LoopCodeKind, name: string, route: string, fix: string) =>
    found.add(fn, route, () => ({ fn, kind, name: name || fn.name || "anonymous", fix }));
  const addDependencies = (plan: Dependency[], route: string) => {
    for (const dependency of plan) {
      if (dependency.lane === "loop") add(dependency.fn, "dependency", dependency.name, route, dependencyFix(dependency));
    }
  };
  const addMiddleware = (middleware: Function[], route: string) => {
    for (const fn of middleware) add(fn, "middleware", fn.name, route, `Middleware runs on the event loop: ${offloadAdvice}.`);
  };

  addMiddleware(app.middleware, "every request");
  for (const route of app.routes) {
    const label = `${route.method} ${route.path}`;
    // Middleware runs on the loop whatever the route's lane; a worker-lane route runs its handler
    // and all its dependencies in the worker.
    addMiddleware(route.middleware, label);
    if (handlerLane(route) !== "loop") continue;
    add(route.handler, "handler", route.name, label, handlerFix(route.handler));
    addDependencies(route.plan, label);
  }
  for (const route of app.websocketRoutes) {
    const label = `WEBSOCKET ${route.path}`;
    add(route.handler, "websocket", route.name, label, `A WebSocket handler runs on the event loop: ${offloadAdvice}.`);
    addDependencies(route.plan, label);
  }
  return found.all();
}

function handlerFix(handler: Function): string {
  if (laneOf(handler) === "worker")
    return `Remove the route's lane: "loop" option so the plain handler runs on the worker pool, or make it async and ${offloadAdvice}.`;
  return `Make the handler a plain function (drop async) so it runs on the worker pool, or ${offloadAdvice}.`;
}

function dependencyFix(dependency: Dependency): string {
  const plain = "a loop-lane route runs its plain dependencies on the worker pool (their values must be structured-cloneable)";
  if (laneOf(dependency.fn) === "worker") return `Remove the dependency's lane: "loop" option (${plain}), or make it async and ${offloadAdvice}.`;
  return `Make the dependency a plain function (drop async: ${plain}), or ${offloadAdvice}.`;
}

/** A function that runs in a worker (a thread of the pool, or a queue-lane process), with the routes it serves. */
export interface WorkerCode {
  fn: Function;
  kind: "handler" | "dependency";
  name: string;
  routes: string[];
}

/** The app's functions that run off the main thread: worker-lane handlers and every dependency that runs in a worker. */
export function workerCodeOf(app: App): WorkerCode[] {
  const found = functionCollector<WorkerCode>();
  const add = (fn: Function, kind: WorkerCode["kind"], name: string, route: string) =>
    found.add(fn, route, () => ({ fn, kind, name: name || fn.name || "anonymous" }));
  for (const route of app.routes) {
    const label = `${route.method} ${route.path}`;
    const offLoop = route.lane === "queue" || handlerLane(route) !== "loop";
    if (offLoop) add(route.handler, "handler", route.name, label);
    for (const dependency of route.plan) if (offLoop || dependency.lane !== "loop") add(dependency.fn, "dependency", dependency.name, label);
  }
  return found.all();
}
