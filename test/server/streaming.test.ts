// Streamed bodies on the wire: chunks go out as they are made, with backpressure; the client
// leaving stops the source; a source that fails drops the connection; SSE and JSON Lines.
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { TestClient } from "loopwise/testing";
import { app } from "../fixtures/http-layer-app.ts";
import { captureLogs, delay, request, until } from "../helpers.ts";

interface Arrival {
  at: number;
  text: string;
}

/** Reads a response chunk by chunk, noting when each arrived; `stopAfter` leaves after that many chunks. */
function readChunks(url: string, { stopAfter, headers = {} }: { stopAfter?: number; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; chunks: Arrival[]; error?: Error }>((resolve) => {
    const chunks: Arrival[] = [];
    const req = httpRequest(url, { agent: false, headers }, (res) => {
      const finish = (error?: Error) => resolve({ status: res.statusCode ?? 0, headers: res.headers, chunks, error });
      res.on("data", (chunk: Buffer) => {
        chunks.push({ at: Date.now(), text: chunk.toString() });
        if (stopAfter !== undefined && chunks.length >= stopAfter) {
          req.destroy();
          finish();
        }
      });
      res.on("end", () => finish());
      res.on("error", (error) => finish(error));
      res.on("aborted", () => finish(new Error("aborted")));
    });
    req.on("error", (error) => resolve({ status: 0, headers: {}, chunks, error }));
    req.end();
  });
}

const stats = async (url: string) => (await request(`${url}/stats`)).json as { finallyRan: number; produced: number; workerFinally: number };

describe("streamed responses", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 1, logWrite: logs.write, loopMonitor: false });
  });
  after(() => server.close());

  test("an async generator's chunks arrive as they are made, not all at the end", async () => {
    const started = Date.now();
    const reply = await readChunks(`${server.url}/stream/chunks`);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers["transfer-encoding"], "chunked");
    assert.equal(reply.chunks.map((c) => c.text).join(""), "abc");
    assert.equal(reply.chunks.length, 3);
    assert.ok(reply.chunks[2]!.at - reply.chunks[0]!.at >= 450, "the last one ~600 ms after the first");
    assert.ok(reply.chunks[0]!.at - started < reply.chunks[2]!.at - reply.chunks[0]!.at, "the first one sooner than that");
    await delay(50);
    const line = logs.out.find((l) => l.includes("/stream/chunks"));
    assert.match(line ?? "", / 200 OK .* bytes=3/);
  });

  test("web ReadableStreams and web Response bodies stream too", async () => {
    const web = await readChunks(`${server.url}/stream/web`);
    assert.equal(web.chunks.map((c) => c.text).join(""), "web 0\nweb 1\nweb 2\n");
    assert.ok(web.chunks.length >= 2, "not buffered into one");
    const response = await request(`${server.url}/stream/web-response`);
    assert.equal(response.text, "from a web Response");
    assert.equal(response.headers["content-type"], "text/x-web");
  });

  test("the client leaving stops the source: its finally runs and the access log says 499", async () => {
    const before = (await stats(server.url)).finallyRan;
    const reply = await readChunks(`${server.url}/stream/forever`, { stopAfter: 2 });
    assert.equal(reply.chunks.length, 2);
    await until(async () => (await stats(server.url)).finallyRan === before + 1);
    await until(async () => logs.out.some((l) => l.includes("/stream/forever") && / 499 /.test(l)));
  });

  test("a source that fails after the head drops the connection; the error is logged; the server goes on", async () => {
    const reply = await readChunks(`${server.url}/stream/fails`);
    assert.equal(reply.status, 200);
    assert.equal(reply.chunks[0]?.text, "first part\n");
    assert.ok(reply.error, "the client sees the body is incomplete");
    await until(async () => logs.err.some((l) => l.includes("the stream's source failed on purpose")));
    const bad = await readChunks(`${server.url}/stream/bad-chunk`);
    assert.ok(bad.error);
    await until(async () => logs.err.some((l) => l.includes("a streamed body yields strings or bytes, got")));
    assert.equal((await request(`${server.url}/small`)).status, 200);
  });

  test("a loop-lane source that fails in the same tick as its chunks: the head and those chunks arrive, then the connection drops", async () => {
    for (const [path, sent, logged] of [
      ["/stream/fails-at-once", "one\ntwo\n", "failed right after two chunks"],
      ["/stream/bad-chunk-later", "one\n", "a streamed body yields strings or bytes, got 42"],
      ["/stream/lines-cycle", '{"n":1}\n{"n":2}\n', "(a cycle) at .self"],
    ] as const) {
      const reply = await readChunks(`${server.url}${path}`);
      assert.equal(reply.status, 200, path);
      assert.equal(reply.chunks.map((c) => c.text).join(""), sent, path);
      assert.ok(reply.error, `${path}: the client sees the body is incomplete`);
      await until(
        () =>
          logs.err.find(
            (l, i) =>
              l.includes(`Exception in GET ${path} (lane=loop)`) &&
              logs.err
                .slice(i, i + 3)
                .join("\n")
                .includes(logged),
          ),
        `the StreamError of ${path}`,
      );
    }
    assert.equal((await request(`${server.url}/small`)).status, 200, "the server goes on");
  });

  test("backpressure: a client that does not read holds the source back", async () => {
    const before = (await stats(server.url)).produced;
    const paused = await new Promise<number>((resolve) => {
      const req = httpRequest(`${server.url}/stream/big`, { agent: false }, (res) => {
        res.pause();
        setTimeout(async () => {
          const produced = (await stats(server.url)).produced - before;
          req.destroy();
          resolve(produced);
        }, 1000);
      });
      req.end();
    });
    assert.ok(paused < 32, `only what the socket buffers is made while the client waits (made ${paused} of 64 MiB)`);
  });

  test("HEAD sends the head of a streamed answer and no body", async () => {
    const reply = await request(`${server.url}/stream/chunks`, { method: "HEAD" });
    assert.equal(reply.status, 200);
    assert.equal(reply.text, "");
  });

  test("server-sent events: three events 300 ms apart, the first at once, Last-Event-ID readable", async () => {
    const started = Date.now();
    const reply = await readChunks(`${server.url}/events?n=3`, { headers: { "last-event-id": "7" } });
    assert.equal(reply.headers["content-type"], "text/event-stream; charset=utf-8");
    assert.equal(reply.headers["cache-control"], "no-cache");
    const body = reply.chunks.map((c) => c.text).join("");
    const events = body.split("\n\n").filter((e) => e !== "");
    assert.equal(events.length, 3);
    assert.equal(events[0], 'event: note\nid: 0\ndata: {"i":0,"last":"7"}');
    assert.ok(reply.chunks.at(-1)!.at - reply.chunks[0]!.at >= 500);
    assert.ok(reply.chunks[0]!.at - started < reply.chunks.at(-1)!.at - reply.chunks[0]!.at, "the first event sooner than the rest");
  });

  test("server-sent events: a quiet stream sends keep-alive comments", async () => {
    const reply = await readChunks(`${server.url}/events/quiet`);
    const body = reply.chunks.map((c) => c.text).join("");
    assert.match(body, /^data: one\n\n(: keep-alive\n\n)+data: two\n\n$/);
  });

  test("JSON Lines, and a plain handler's stream (read whole on its worker)", async () => {
    const lines = await request(`${server.url}/lines`);
    assert.equal(lines.headers["content-type"], "application/jsonl");
    assert.equal(lines.text, '{"a":1}\n{"b":2}\n');
    const worker = await request(`${server.url}/worker/stream`);
    assert.equal(worker.text, "plain handler stream");
  });

  test("a streamed event stream is never compressed; a streamed text body is, chunk by chunk", async () => {
    const events = await readChunks(`${server.url}/events?n=1`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(events.headers["content-encoding"], undefined);
    const text = await readChunks(`${server.url}/stream/chunks`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(text.headers["content-encoding"], "gzip");
    assert.ok(text.chunks.length >= 2, "each chunk flushed as it comes");
  });
});

test("the TestClient reads a streamed body to its end", async () => {
  const client = await TestClient.start(app, { poolSize: 1 });
  try {
    assert.equal((await client.get("/stream/chunks")).text, "abc");
    assert.match((await client.get("/events", { query: { n: 2 } })).text, /^event: note\nid: 0\n/);
  } finally {
    await client.close();
  }
});

describe("a plain generator streams from its worker", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 1, logWrite: logs.write, loopMonitor: false });
  });
  after(() => server.close());

  test("each chunk arrives as the worker yields it", async () => {
    const started = Date.now();
    const reply = await readChunks(`${server.url}/worker/generator`);
    assert.equal(reply.status, 200);
    assert.equal(reply.chunks.map((c) => c.text).join(""), "xyz");
    assert.ok(reply.chunks.at(-1)!.at - reply.chunks[0]!.at >= 450, "not all at the end");
    assert.ok(reply.chunks[0]!.at - started < reply.chunks.at(-1)!.at - reply.chunks[0]!.at, "the first chunk sooner than the rest");
    await until(async () => logs.out.some((l) => l.includes("/worker/generator ") && /lane=worker#\d/.test(l) && /bytes=3/.test(l)));
  });

  test("the client leaving stops the generator on its worker, and the worker serves the next request", async () => {
    const before = (await stats(server.url)).workerFinally;
    const reply = await readChunks(`${server.url}/worker/generator-forever`, { stopAfter: 2 });
    assert.equal(reply.chunks.length >= 1, true);
    await until(async () => (await stats(server.url)).workerFinally === before + 1);
    const next = await request(`${server.url}/worker/generator`);
    assert.equal(next.text, "xyz", "the pool of one is free again");
  });

  test("a generator that fails mid-stream drops the connection; one that fails before its first chunk answers its error", async () => {
    const failed = await readChunks(`${server.url}/worker/generator-fails`);
    assert.equal(failed.chunks[0]?.text, "first\n");
    assert.ok(failed.error);
    await until(async () => logs.err.some((l) => l.includes("the worker's generator failed on purpose")));
    const refused = await request(`${server.url}/worker/generator-refuses?no=1`);
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.json, { detail: "not this one" });
    assert.equal((await request(`${server.url}/worker/generator-refuses`)).text, "fine");
  });
});

test("at shutdown an open event stream ends at once; the server does not wait out its grace period for it", async () => {
  const logs = captureLogs();
  const server = await serve(app, { port: 0, poolSize: 1, logWrite: logs.write, loopMonitor: false, gracePeriod: 20_000 });
  const reading = readChunks(`${server.url}/events?n=1000`);
  await delay(500);
  const started = Date.now();
  assert.equal(await server.close(), true);
  assert.ok(Date.now() - started < 10_000, "closed well within the grace period");
  const reply = await reading;
  assert.equal(reply.error, undefined, "the stream ended cleanly");
  assert.match(reply.chunks.map((c) => c.text).join(""), /^event: note\nid: 0\n/);
});
