// The request pipeline against the executor interface alone: no threads, no sockets. A task
// "crosses" to an in-process host, the same one a worker would run.
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { test } from "node:test";
import { App } from "../../src/app/app.ts";
import { createRequestHandler, type HandledRequest } from "../../src/app/handle-request.ts";
import type { TaskExecutor } from "../../src/lanes/executor.ts";
import { HttpError } from "../../src/http/http-error.ts";
import { hostKey } from "../../src/pool/identity.ts";
import { TaskKind, type TaskHost } from "../../src/pool/protocol.ts";

const app = new App();
app.get("/loop/:id", async (req) => ({ lane: "loop", id: req.params.id }));
app.get("/worker/:id", (req) => ({ lane: "worker", id: req.params.id }));
app.post("/worker/echo", (req) => ({ got: req.body }));
app.get("/worker/missing", () => {
  throw new HttpError(404, "nope");
});

/** Runs each task in this thread, through structuredClone as postMessage would. */
function inProcess(host: TaskHost): TaskExecutor & { kinds: number[] } {
  const kinds: number[] = [];
  return {
    kinds,
    async run<T>(kind: TaskKind, target: number | string, payload: unknown) {
      kinds.push(kind);
      const value = await host.run(kind, target, structuredClone(payload));
      return { value: structuredClone(value) as T, slot: 7, queuedMs: 0, runMs: 0 };
    },
  };
}

function send(handle: ReturnType<typeof createRequestHandler>, method: string, url: string, body?: string): Promise<HandledRequest> {
  const headers: Record<string, string> =
    body === undefined ? {} : { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) };
  const req = Object.assign(Readable.from(body === undefined ? [] : [Buffer.from(body)]), { method, url, headers, httpVersion: "1.1" });
  return new Promise((resolve, reject) => handle(req as unknown as IncomingMessage, { client: "test:0", scheme: "http" }, resolve, reject));
}

test("the pipeline runs each route on its lane through the executor it is given", async () => {
  const executor = inProcess((app as unknown as Record<symbol, () => TaskHost>)[hostKey]!.call(app));
  const handle = createRequestHandler(app, executor, { bodyLimit: 1024, timeout: undefined });

  const loop = await send(handle, "GET", "/loop/1");
  assert.equal(loop.lane, "loop");
  assert.deepEqual(JSON.parse(String(loop.body)), { lane: "loop", id: "1" });
  assert.deepEqual(executor.kinds, [], "a loop-lane route never reaches the executor");

  const worker = await send(handle, "GET", "/worker/2");
  assert.equal(worker.lane, "worker#7");
  assert.deepEqual(JSON.parse(String(worker.body)), { lane: "worker", id: "2" });
  assert.deepEqual(executor.kinds, [TaskKind.Route]);

  assert.deepEqual(JSON.parse(String((await send(handle, "POST", "/worker/echo", '{"a":[1]}')).body)), { got: { a: [1] } });
  const missing = await send(handle, "GET", "/worker/missing");
  assert.equal(missing.status, 404);
  assert.equal((await send(handle, "GET", "/nowhere")).status, 404);
  assert.equal((await send(handle, "DELETE", "/loop/1")).status, 405);
});
