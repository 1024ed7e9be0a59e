// OpenTelemetry with the real SDK (NodeSDK, started the standard way by `--import`, configured by
// OTEL_* variables) exporting over OTLP/HTTP to a receiver in this test: a server with both lanes
// and a queue-lane route, and a `loopwise worker` process, all in one trace per request.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fixture, request, spawnServer, until, type ChildServer } from "../helpers.ts";
import { startOtlpReceiver, otelEnv, type OtlpReceiver, type ReceivedSpan } from "../otlp-receiver.ts";
import { spawnWorker, startRedis, type ChildWorker, type RedisServer } from "../redis.ts";

const spec = `${fixture("tracing-app.ts")}:app`;
const [SERVER, CONSUMER, ERROR] = [2, 5, 2];

describe("OpenTelemetry across the lanes", () => {
  let receiver: OtlpReceiver;
  let redis: RedisServer;
  let server: ChildServer;
  let worker: ChildWorker;
  before(async () => {
    receiver = await startOtlpReceiver();
    redis = await startRedis();
    [server, worker] = await Promise.all([
      spawnServer(spec, ["--pool-size", "2", "--redis", redis.url], otelEnv(receiver, "traced-server")),
      spawnWorker(spec, redis.url, ["--pool-size", "1"], otelEnv(receiver, "traced-worker")),
    ]);
  });
  after(async () => {
    await Promise.all([server?.stop(), worker?.stop()]);
    await redis?.stop();
    await receiver?.close();
  });

  /** The spans of the trace whose SERVER span served `path`, once `names` have all arrived. */
  async function traceOf(path: string, names: string[]): Promise<Map<string, ReceivedSpan>> {
    let spans: ReceivedSpan[] = [];
    await until(
      () => {
        const root = receiver.spans.find((span) => span.kind === SERVER && span.attributes["url.path"] === path);
        spans = root === undefined ? [] : receiver.spans.filter((span) => span.traceId === root.traceId);
        return names.every((name) => spans.some((span) => span.name === name));
      },
      `the spans of ${path}: ${names.join(", ")}`,
      20_000,
    );
    return new Map(spans.map((span) => [span.name, span]));
  }

  test("a loop-lane request continues the caller's traceparent; the app's own span nests under the handler's", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const callerSpan = "00f067aa0ba902b7";
    const reply = await request(`${server.url}/traced/loop/7?x=1`, { headers: { traceparent: `00-${traceId}-${callerSpan}-01` } });
    assert.equal(reply.status, 200);
    const spans = await traceOf("/traced/loop/7", ["GET /traced/loop/:id", "handler GET /traced/loop/:id", "app work on the loop"]);
    const serverSpan = spans.get("GET /traced/loop/:id")!;
    assert.equal(serverSpan.traceId, traceId);
    assert.equal(serverSpan.parentSpanId, callerSpan);
    assert.equal(serverSpan.kind, SERVER);
    assert.deepEqual(
      [serverSpan.attributes["http.request.method"], serverSpan.attributes["http.route"], serverSpan.attributes["http.response.status_code"]],
      ["GET", "/traced/loop/:id", 200],
    );
    assert.deepEqual([serverSpan.attributes["url.scheme"], serverSpan.attributes["url.query"]], ["http", "x=1"]);
    const handler = spans.get("handler GET /traced/loop/:id")!;
    assert.equal(handler.parentSpanId, serverSpan.spanId);
    assert.equal(handler.attributes["loopwise.lane"], "loop");
    assert.equal(spans.get("app work on the loop")!.parentSpanId, handler.spanId);
  });

  test("a worker-lane request: the handler span records the worker and the wait; the worker's span and the app's nest under it", async () => {
    assert.equal((await request(`${server.url}/traced/worker`)).status, 200);
    const spans = await traceOf("/traced/worker", [
      "GET /traced/worker",
      "handler GET /traced/worker",
      "worker GET /traced/worker",
      "app work in a worker",
    ]);
    const serverSpan = spans.get("GET /traced/worker")!;
    assert.equal(serverSpan.parentSpanId ?? "", "", "a new trace starts at the server when no traceparent came");
    const handler = spans.get("handler GET /traced/worker")!;
    assert.equal(handler.parentSpanId, serverSpan.spanId);
    assert.equal(handler.attributes["loopwise.lane"], "worker");
    assert.ok([1, 2].includes(handler.attributes["loopwise.worker"] as number));
    assert.ok((handler.attributes["loopwise.queue.wait_ms"] as number) >= 0);
    const inWorker = spans.get("worker GET /traced/worker")!;
    assert.equal(inWorker.parentSpanId, handler.spanId);
    assert.equal(inWorker.attributes["loopwise.worker"], handler.attributes["loopwise.worker"]);
    assert.equal(spans.get("app work in a worker")!.parentSpanId, inWorker.spanId);
    // The worker's span starts no earlier than the handler's: the gap is the wait for a worker.
    assert.ok(BigInt(inWorker.startTimeUnixNano) >= BigInt(handler.startTimeUnixNano));
  });

  test("a queue-lane request: the job's span in the worker process continues the trace through Redis", async () => {
    const reply = await request(`${server.url}/traced/queue`, {
      headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    });
    assert.equal(reply.status, 200);
    const spans = await traceOf("/traced/queue", [
      "GET /traced/queue",
      "handler GET /traced/queue",
      "job GET /traced/queue",
      "worker GET /traced/queue",
    ]);
    const handler = spans.get("handler GET /traced/queue")!;
    assert.equal(handler.attributes["loopwise.lane"], "queue");
    const job = spans.get("job GET /traced/queue")!;
    assert.equal(job.traceId, "0af7651916cd43dd8448eb211c80319c");
    assert.equal(job.kind, CONSUMER);
    assert.equal(job.parentSpanId, handler.spanId);
    assert.equal(job.pid, worker.pid, "made in the worker process");
    const onPool = spans.get("worker GET /traced/queue")!;
    assert.equal(onPool.parentSpanId, job.spanId);
    assert.equal(onPool.attributes["loopwise.lane"], "queue");
    // The handler's req.log line is the worker process's, with its route, lane and worker thread.
    const line = worker.stderr.map((text) => JSON.parse(text)).find((entry) => entry.msg === "queue-lane work");
    assert.deepEqual([line?.route, line?.lane, line?.worker, line?.step, line?.pid], ["GET /traced/queue", "queue", 1, "render", worker.pid]);
  });

  test("a 500 marks the server and handler spans as errors; a 4xx does not", async () => {
    assert.equal((await request(`${server.url}/traced/fails`)).status, 500);
    assert.equal((await request(`${server.url}/traced/teapot`)).status, 418);
    const failed = await traceOf("/traced/fails", ["GET /traced/fails", "handler GET /traced/fails"]);
    assert.equal(failed.get("GET /traced/fails")!.status.code, ERROR);
    assert.equal(failed.get("handler GET /traced/fails")!.status.message, "broken on purpose");
    const teapot = await traceOf("/traced/teapot", ["GET /traced/teapot"]);
    assert.notEqual(teapot.get("GET /traced/teapot")!.status.code, ERROR);
  });

  test("a malformed traceparent starts a new trace; a request no route matches is named by its method", async () => {
    const reply = await request(`${server.url}/traced/loop/8`, { headers: { traceparent: "00-zzzz-not-a-trace-99", tracestate: ",,=,x=\t, k=" } });
    assert.equal(reply.status, 200);
    const spans = await traceOf("/traced/loop/8", ["GET /traced/loop/:id"]);
    assert.equal(spans.get("GET /traced/loop/:id")!.parentSpanId ?? "", "");
    assert.equal((await request(`${server.url}/nowhere`)).status, 404);
    const missing = await traceOf("/nowhere", ["GET"]);
    assert.equal(missing.get("GET")!.attributes["http.route"], undefined);
  });
});

test("with the HTTP instrumentation (as auto-instrumentations start it), its SERVER span gets the route and no second one is made", async () => {
  const receiver = await startOtlpReceiver();
  const server = await spawnServer(
    `${fixture("logging-app.ts")}:app`,
    ["--pool-size", "1"],
    otelEnv(receiver, "instrumented", new URL("../fixtures/otel-http-setup.mjs", import.meta.url)),
  );
  try {
    assert.equal((await request(`${server.url}/log/worker/5`)).status, 200);
    const handler = await until(() => receiver.spans.find((span) => span.name === "handler GET /log/worker/:id"), "the handler's span", 20_000);
    const serverSpans = await until(
      () => {
        const found = receiver.spans.filter((span) => span.traceId === handler.traceId && span.kind === SERVER);
        return found.length > 0 && found;
      },
      "the SERVER span",
      20_000,
    );
    assert.equal(serverSpans.length, 1);
    const [serverSpan] = serverSpans;
    assert.deepEqual(
      [serverSpan!.scope, serverSpan!.name, serverSpan!.attributes["http.route"]],
      ["@opentelemetry/instrumentation-http", "GET /log/worker/:id", "/log/worker/:id"],
    );
    assert.equal(handler.parentSpanId, serverSpan!.spanId);
  } finally {
    await server.stop();
    await receiver.close();
  }
});
