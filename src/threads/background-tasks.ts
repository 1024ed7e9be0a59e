// Background tasks: work a handler declares, run after its response is sent, by the lane rule: an
// async function on the event loop, a plain one on the worker pool. A task added on a worker
// (by a worker-lane handler) travels back with the response as plain data, so its function is
// known by the key it was registered under, like a blocking() function.
import { workerSlot } from "../pool/identity.js";
import { describeValue } from "../pool/protocol.js";
import { laneOf, type Lane } from "./lane.js";
import { blocking, registeredKey } from "./offload.js";

/** One task to run after the response: plain data, but `fn` (an async closure added on the main thread, which never crosses). */
export interface BackgroundEntry {
  /** The function's name, for logs and metrics. */
  name: string;
  lane: Lane;
  /** Its registration key (see backgroundFunction), when it has one. */
  key?: string;
  args: unknown[];
  fn?: Function;
}

const lanes = new WeakMap<Function, Lane>();

/**
 * Registers a function that background tasks may run, so every thread can name it: call it at
 * the top level of a module the app imports (as blocking()). Needed for a plain function (it
 * runs on the pool) and for any task added by a worker-lane handler. Returns `fn`.
 *
 *     export const sendEmail = backgroundFunction(function sendEmail(to: string) { ... });
 */
export function backgroundFunction<F extends (...args: any[]) => unknown>(fn: F, options: { lane?: Lane } = {}): F {
  if (typeof fn !== "function") throw new TypeError(`backgroundFunction() takes a function, got ${describeValue(fn)}`);
  lanes.set(fn, laneOf(fn, options.lane));
  return blocking(fn);
}

/**
 * The tasks of one request, given to a handler by the `backgroundTasks` dependency (FastAPI's
 * `BackgroundTasks`). They run one after another once the response is sent; one that fails is
 * logged with the route and does not stop the next.
 *
 *     app.post("/notes", { deps: { tasks: backgroundTasks } }, async (req, { tasks }) => {
 *       tasks.add(audit, "created");
 *     });
 */
export class BackgroundTasks {
  readonly #entries: BackgroundEntry[] = [];

  /** Runs `fn(...args)` after the response: on the loop if `fn` is async, else on the pool. */
  add<F extends (...args: any[]) => unknown>(fn: F, ...args: Parameters<F>): void {
    if (typeof fn !== "function") throw new TypeError(`tasks.add() takes a function, got ${describeValue(fn)}`);
    const name = fn.name || "anonymous task";
    const lane = lanes.get(fn) ?? laneOf(fn);
    const key = registeredKey(fn);
    const onWorker = workerSlot() !== undefined;
    // Added on a worker, it runs after the response from the main thread; plain, on any worker.
    const crosses = onWorker || lane === "worker";
    const where = onWorker
      ? "it was added on a worker and runs after the response, from the main thread"
      : "it is a plain function, so it runs on the worker pool";
    if (key === undefined && crosses) {
      throw new TypeError(
        `background task ${name}: ${where}, which must find it by name: register it with backgroundFunction(${name === "anonymous task" ? "fn" : name}) ` +
          "at the top level of a module the app imports.",
      );
    }
    if (crosses) {
      try {
        structuredClone(args);
      } catch (error) {
        throw new TypeError(
          `background task ${name}: ${where}, and its arguments cannot be copied there (${(error as Error).message}). Pass plain data (an id rather than a connection).`,
        );
      }
    }
    const entry: BackgroundEntry = { name, lane, args };
    if (key === undefined) entry.fn = fn;
    else entry.key = key;
    this.#entries.push(entry);
  }

  /** The tasks added so far, in order. */
  get entries(): readonly BackgroundEntry[] {
    return this.#entries;
  }
}
