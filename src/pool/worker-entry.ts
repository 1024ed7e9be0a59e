// The code that runs inside each pool worker. It imports the app module (the same one the main
// thread serves), asks the app for its task host and runs what the main thread sends.
// It imports only the message types and Node built-ins: nothing here knows about HTTP.
import { AsyncResource } from "node:async_hooks";
import { getEventListeners } from "node:events";
import { readlinkSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import {
  serializeError,
  type MainToWorker,
  type TaskHost,
  type TaskMessage,
  type TaskResult,
  type WorkerStartData,
  type WorkerToMain,
  type LogMessage,
  appLogSinkKey,
  jsonSafeFields,
} from "./protocol.js";
import { importModule } from "./module-loader.js";
import { createdApps, hostKey, inheritSharedBuffers, markWorkerThread } from "./identity.js";
import { lowerThreadPriority } from "./thread-priority.js";
import { taskSignal } from "./task-signal.js";

const port = parentPort!;
const data = workerData as WorkerStartData;
const send = (message: WorkerToMain) => port.postMessage(message);

markWorkerThread(data.slot);
// The app's log lines go to the main thread's log, which says which worker wrote them.
if (data.logLevel !== undefined) {
  (globalThis as Record<symbol, unknown>)[appLogSinkKey] = {
    level: data.logLevel,
    write: (record: LogMessage["record"]) => {
      try {
        send({ type: "log", record });
      } catch {
        // A field that cannot be copied (a function, a socket): the line still goes, its fields as JSON can say them.
        send({ type: "log", record: { ...record, fields: jsonSafeFields(record.fields) } });
      }
    },
  };
}

inheritSharedBuffers(data.sharedBuffers);

async function loadHost(): Promise<TaskHost> {
  const namespace = await importModule(data.moduleUrl, data.loader, data.compiled, true);
  let app: unknown;
  if (data.exportName !== undefined) {
    app = namespace[data.exportName];
  } else {
    const own = createdApps<{ moduleUrl?: string }>().filter((a) => a.moduleUrl === data.moduleUrl);
    app = own[data.appIndex];
  }
  const makeHost = (app as Record<symbol, unknown> | undefined)?.[hostKey];
  if (typeof makeHost !== "function") {
    throw new Error(
      data.exportName !== undefined
        ? `the module has no Loopwise app exported as "${data.exportName}"`
        : "the module did not create the Loopwise app when imported in a worker",
    );
  }
  return makeHost.call(app) as TaskHost;
}

const now = () => performance.timeOrigin + performance.now();

/** This thread's id as the OS knows it ("PID/task/TID"), where /proc shows it. */
function osThreadId(): number | undefined {
  try {
    return Number(readlinkSync("/proc/thread-self").split("/").pop()) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs the tasks the main thread sent, one after another, and sends their results back in as
 * few messages as possible: one per stretch of synchronous work, flushed before any await.
 * Before each task its id goes into the shared progress mark, and results not yet sent are
 * flushed when the worker exits, so a task that kills the worker costs no other task its
 * result, and the main thread knows which tasks never started. A cancellable task gets an
 * AbortSignal when it starts; one cancelled before its turn is skipped and reported so.
 */
/**
 * Making an AbortController costs more than a trivial task (about 4 µs on Node 20), so the ones
 * whose task ended without an abort and with no listener left on its signal are used again.
 */
const spareControllers: AbortController[] = [];
const takeController = () => spareControllers.pop() ?? new AbortController();
function giveBackController(controller: AbortController): void {
  if (spareControllers.length < 16 && !controller.signal.aborted && getEventListeners(controller.signal, "abort").length === 0) {
    spareControllers.push(controller);
  }
}

/** Sends results in one message; a value that cannot be cloned (a function, a class instance with private state) fails its own task only. */
function sendResults(batch: TaskResult[]): void {
  try {
    send({ type: "results", results: batch });
  } catch {
    for (const result of batch) {
      try {
        send({ type: "results", results: [result] });
      } catch (error) {
        send({ type: "results", results: [{ ...result, ok: false, value: serializeError(error) }] });
      }
    }
  }
}

function createRunner(host: TaskHost) {
  const encodeError = host.encodeError ?? serializeError;
  const waiting: TaskMessage[] = [];
  const progress = new Int32Array(data.progress);
  /** The cancellable task running now (tasks run one at a time), and ids cancelled before their turn. */
  let running: { id: number; controller: AbortController } | undefined;
  const cancelledEarly = new Set<number>();
  let results: TaskResult[] = [];
  let draining = false;

  const flush = () => {
    if (results.length === 0) return;
    const batch = results;
    results = [];
    sendResults(batch);
  };

  /** The task's signal, or "cancelled" if it was cancelled before its turn. */
  const signalFor = (task: TaskMessage): AbortSignal | "cancelled" | undefined => {
    if (!task.abortable) return undefined;
    if (cancelledEarly.delete(task.id) || Atomics.load(progress, 1) === task.id) return "cancelled";
    running = { id: task.id, controller: takeController() };
    return taskSignal(running.controller, progress, task.id);
  };

  async function drain(): Promise<void> {
    draining = true;
    for (let task = waiting.shift(); task !== undefined; task = waiting.shift()) {
      const signal = signalFor(task);
      const startedAt = now();
      if (signal === "cancelled") {
        results.push({ id: task.id, ok: false, value: null, startedAt, runMs: 0, cancelled: true });
        continue;
      }
      Atomics.store(progress, 0, task.id);
      try {
        // Its own async scope: a store a task sets with AsyncLocalStorage.enterWith() ends with it,
        // instead of leaking into the tasks that run after it on this worker.
        let value = new AsyncResource("loopwise.task").runInAsyncScope(() => host.run(task.kind, task.target, task.payload, signal, task.context));
        if (value instanceof Promise) {
          flush();
          value = await value;
        }
        results.push({ id: task.id, ok: true, value, startedAt, runMs: now() - startedAt });
      } catch (error) {
        results.push({ id: task.id, ok: false, value: encodeError(error), startedAt, runMs: now() - startedAt });
      }
      Atomics.store(progress, 2, task.id);
      if (running) {
        giveBackController(running.controller);
        running = undefined;
      }
    }
    flush();
    draining = false;
  }

  // `process.exit()` inside a handler: the results of the tasks before it still go out.
  process.on("exit", flush);
  // An error nothing caught was left behind by earlier work (a timer, an unawaited promise):
  // say so, then die as Node would, so the main thread blames the worker, not the task running.
  process.on("uncaughtException", (error) => {
    flush();
    send({ type: "crashed", error: serializeError(error) });
    process.exit(1);
  });

  return (message: MainToWorker) => {
    if (message.type === "abort") {
      if (running?.id === message.id) running.controller.abort();
      else if (waiting.some((t) => t.id === message.id)) cancelledEarly.add(message.id);
      return;
    }
    waiting.push(...message.tasks);
    if (!draining) void drain();
  };
}

try {
  const host = await loadHost();
  await host.start(data.slot);
  // Only now: starting up at the loop's priority, a growth worker is ready sooner on a busy
  // machine (the pool starts only a few at once, so the loop keeps its share meanwhile).
  lowerThreadPriority(data.niceness);
  // A handler that returns a Promise is awaited on this worker's own event loop; tasks that
  // arrive meanwhile wait their turn.
  port.on("message", createRunner(host));
  send({ type: "ready", signature: host.signature(), tid: osThreadId() });
} catch (error) {
  send({ type: "startup-failed", error: serializeError(error) });
  port.close();
}
