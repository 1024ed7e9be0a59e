// Lanes over real sockets and real worker threads: the rule, overrides, offload, errors, exhaustion.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app } from "../fixtures/lanes-app.ts";
import { captureLogs, request } from "../helpers.ts";

describe("lanes", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, maxPoolSize: 2, logWrite: logs.write });
  });
  after(async () => {
    assert.equal(await server.close(), true);
  });

  test("async handlers run on the main thread, plain ones on a worker", async () => {
    assert.equal((await request(server.url + "/loop/where")).json.threadId, 0);
    assert.notEqual((await request(server.url + "/worker/where")).json.threadId, 0);
  });

  test("a plain handler that returns a Promise runs in a worker, which awaits it", async () => {
    const reply = await request(server.url + "/worker/promise");
    assert.equal(reply.json.promised, true);
    assert.notEqual(reply.json.threadId, 0);
  });

  test("the lane option overrides the rule both ways", async () => {
    assert.equal((await request(server.url + "/forced/loop")).json.threadId, 0);
    assert.notEqual((await request(server.url + "/forced/worker")).json.threadId, 0);
  });

  test("offload() runs a registered blocking function on a worker and returns its result", async () => {
    const reply = await request(server.url + "/offload?input=xyz");
    assert.equal(reply.status, 200);
    assert.equal(reply.json.handlerThreadId, 0);
    assert.notEqual(reply.json.threadId, 0);
    assert.equal(typeof reply.json.hash, "number");
  });

  test("an error thrown by an offloaded function reaches the awaiting handler", async () => {
    const reply = await request(server.url + "/offload/fails");
    assert.deepEqual(reply.json, { caught: true, message: "blocking function failed on purpose" });
  });

  test("an HttpError raised by an offloaded function answers with its status, detail and headers", async () => {
    const reply = await request(server.url + "/offload/refuses/42");
    assert.equal(reply.status, 404);
    assert.deepEqual(reply.json, { detail: "no item 42" });
    assert.equal(reply.headers["x-looked-in"], "worker");
  });

  test("a value that cannot cross back from a worker fails its own call only, with the reason", async () => {
    const reply = await request(server.url + "/offload/uncloneable");
    assert.equal(reply.status, 200);
    assert.match(
      reply.json[0],
      /offload\(uncloneable\): it returned a function \(callback\) at \.callback, which cannot be copied to another thread at all/,
    );
    assert.equal(reply.json[1], "ok");
  });

  for (const lane of ["loop", "worker"]) {
    test(`a handler that throws on the ${lane} lane gives a JSON 500, logs the stack and leaves the server healthy`, async () => {
      const reply = await request(`${server.url}/${lane}/throw`);
      assert.equal(reply.status, 500);
      assert.deepEqual(reply.json, { detail: "Internal Server Error" });
      assert.doesNotMatch(reply.text, /on purpose|at /, "the stack must not reach the client");
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(logs.err.some((line) => line.includes(`Exception in GET /${lane}/throw`)));
      assert.ok(logs.err.some((line) => line.includes(`${lane} handler failed on purpose`)));
      // Every worker still answers.
      const replies = await Promise.all([1, 2, 3, 4].map(() => request(`${server.url}/${lane}/where`)));
      assert.ok(replies.every((r) => r.status === 200));
    });
  }

  test("HttpError gives its status, detail and headers on both lanes", async () => {
    const loop = await request(server.url + "/loop/http-error");
    assert.equal(loop.status, 418);
    assert.deepEqual(loop.json, { detail: { reason: "teapot" } });
    assert.equal(loop.headers["x-why"], "loop");
    const worker = await request(server.url + "/worker/http-error");
    assert.equal(worker.status, 404);
    assert.deepEqual(worker.json, { detail: "Item not found" });
    assert.equal(worker.headers["x-why"], "worker");
  });

  test("a handler that kills its worker gives a 500 for that request only; the worker is replaced", async () => {
    const reply = await request(server.url + "/worker/exit");
    assert.equal(reply.status, 500);
    assert.deepEqual(reply.json, { detail: "The worker running this request died" });
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(logs.err.some((line) => /worker#\d died \(exit code 7\); its request got a 500/.test(line)));
    // The pool heals back to its full size: two sleeps at once run on two workers again.
    for (let i = 0; i < 200 && server.pool.ready < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(server.pool.ready, 2);
    const replies = await Promise.all([0, 1].map(() => request(server.url + "/worker/sleep/300")));
    assert.ok(replies.every((r) => r.status === 200));
    assert.notEqual(replies[0]!.json.threadId, replies[1]!.json.threadId, "the two sleeps ran on one worker: the pool did not heal");
  });

  test("a value that cannot be serialised is a 500, not a crash", async () => {
    const reply = await request(server.url + "/worker/unserialisable");
    assert.equal(reply.status, 500);
    assert.equal((await request(server.url + "/worker/where")).status, 200);
  });

  test("with every worker busy, the next request waits in the queue for a free one", async () => {
    const sleepMs = 400;
    const started = Date.now();
    // Pool size 2: two requests take both workers; the third waits about one sleep.
    const replies = await Promise.all(
      [0, 1, 2].map(async (i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 20));
        return request(`${server.url}/worker/sleep/${sleepMs}?n=${i}`);
      }),
    );
    assert.ok(replies.every((r) => r.status === 200));
    const [first, second, third] = replies.map((r) => r.doneAt - started);
    assert.ok(third! >= 2 * sleepMs - 30, `the third request finished after ${third} ms, before a worker was free`);
    assert.ok(third! > Math.max(first!, second!));
    await new Promise((resolve) => setImmediate(resolve));
    const queued = logs.out.filter((line) => /\/worker\/sleep\/\d+\?n=/.test(line)).map((line) => Number(/queued=([\d.]+)ms/.exec(line)?.[1]));
    assert.equal(queued.length, 3);
    assert.ok(Math.max(...queued) >= sleepMs - 100, `queue waits were ${queued.join(", ")} ms`);
  });

  test("a loop-lane handler keeps answering while every worker is busy", async () => {
    const slow = [0, 1].map(() => request(server.url + "/worker/sleep/500"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const hello = await request(server.url + "/loop/where");
    assert.equal(hello.status, 200);
    assert.ok(hello.doneAt - started < 250, "the loop lane waited for the pool");
    await Promise.all(slow);
  });
});
