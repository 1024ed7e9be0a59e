// The code that runs inside each pool worker. It imports the app module (the same one the main
// thread serves), asks the app for its task host and runs what the main thread sends.
// It imports only the message types and Node built-ins: nothing here knows about HTTP.
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import {
  appsKey,
  hostKey,
  serializeError,
  type MainToWorker,
  type TaskHost,
  type TaskMessage,
  type WorkerStartData,
  type WorkerToMain,
} from "./messages.js";
import { importModule } from "./module-loader.js";
import { inheritSharedBuffers } from "./shared-state.js";
import { lowerThreadPriority } from "./thread-priority.js";
import { markWorkerThread } from "./thread-role.js";

const port = parentPort!;
const data = workerData as WorkerStartData;
const send = (message: WorkerToMain) => port.postMessage(message);

markWorkerThread(data.slot);
inheritSharedBuffers(data.sharedBuffers);
lowerThreadPriority(data.niceness);

async function loadHost(): Promise<TaskHost> {
  const namespace = await importModule(data.moduleUrl);
  let app: unknown;
  if (data.exportName !== undefined) {
    app = namespace[data.exportName];
  } else {
    const created = ((globalThis as Record<symbol, unknown>)[appsKey] ?? []) as { moduleUrl?: string }[];
    const own = created.filter((a) => a.moduleUrl === data.moduleUrl);
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

async function runTask(host: TaskHost, task: TaskMessage): Promise<void> {
  const started = performance.now();
  try {
    let value = host.run(task.kind, task.target, task.payload);
    if (value instanceof Promise) value = await value;
    send({ type: "result", id: task.id, ok: true, value, runMs: performance.now() - started });
  } catch (error) {
    send({ type: "result", id: task.id, ok: false, value: serializeError(error), runMs: performance.now() - started });
  }
}

try {
  const host = await loadHost();
  await host.start(data.slot);
  // Tasks of one batch run one after another; the port stays free between them, so a handler
  // that returns a Promise is awaited on this worker's own event loop.
  let chain: Promise<void> = Promise.resolve();
  port.on("message", (message: MainToWorker) => {
    for (const task of message.tasks) chain = chain.then(() => runTask(host, task));
  });
  send({ type: "ready", signature: host.signature() });
} catch (error) {
  send({ type: "startup-failed", error: serializeError(error) });
  port.close();
}
