// BullMQ's events stream can miss an answer (a reconnect, a trimmed stream). The server's queue
// lane must not trust it alone: a request still waiting reads its job back. Here the completion
// event is made to vanish for real: the lane's events connection is cut, the job completes while
// it is away, and the stream is trimmed before it comes back.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import { Worker } from "bullmq";
import type * as Lane from "../../src/queue/queue-lane.ts";
import type * as Codec from "../../src/queue/job-codec.ts";
import { eventually, startRedis, type RedisServer } from "../redis.ts";

const { QueueLane } = (await import(new URL("../../dist/queue/queue-lane.js", import.meta.url).href)) as typeof Lane;
const { encodeJobRequest, encodeJobResult } = (await import(new URL("../../dist/queue/job-codec.js", import.meta.url).href)) as typeof Codec;

let redis: RedisServer;
let admin: Redis;
before(async () => {
  redis = await startRedis();
  admin = new Redis(redis.port, "127.0.0.1");
});
after(async () => {
  admin?.disconnect();
  await redis?.stop();
});

const request = () =>
  encodeJobRequest(
    { method: "GET", url: "/x", path: "/x", params: {}, query: {}, headers: {}, cookies: {}, body: undefined, client: "t" } as never,
    undefined,
  );

test("an answer whose completion event was lost is still found, by reading the job back", async () => {
  const lane = await QueueLane.start(redis.url, { awaitAnswers: true });
  let worker: Worker | undefined;
  try {
    const answer = lane.submit({ route: "GET /x", request: request(), deadline: Date.now() + 20_000, timeoutMs: 20_000 });
    // Cut the lane's events reader (the connection blocked in XREAD); it reconnects after a second.
    await eventually(async () => String(await admin.call("CLIENT", "LIST")).includes("cmd=xread"), 5_000, "the events reader");
    const reader = String(await admin.call("CLIENT", "LIST"))
      .split("\n")
      .find((line) => line.includes("cmd=xread"))!;
    await admin.call("CLIENT", "KILL", "ID", /\bid=(\d+)/.exec(reader)![1]!);
    // Answer the job while the reader is away, then remove every event it would have read.
    let done!: () => void;
    const completed = new Promise<void>((resolve) => {
      done = resolve;
    });
    worker = new Worker(
      "jobs",
      async () => encodeJobResult({ status: 200, headers: {}, body: "found", lane: "loop", worker: "test:1", runMs: 1, poolWaitMs: undefined }),
      { prefix: "loopwise", connection: { host: "127.0.0.1", port: redis.port } },
    );
    worker.on("completed", () => done());
    await completed;
    await admin.call("XTRIM", "loopwise:jobs:events", "MAXLEN", "0");
    const started = Date.now();
    const outcome = await answer;
    assert.equal(outcome.body, "found");
    assert.equal(outcome.worker, "test:1");
    assert.ok(Date.now() - started < 5_000, "found within a few seconds, long before the deadline");
  } finally {
    await worker?.close();
    await lane.close();
  }
});

test("at the deadline a job no worker took is removed from Redis, not left to run late", async () => {
  const lane = await QueueLane.start(redis.url, { awaitAnswers: true });
  try {
    const before = Date.now();
    await assert.rejects(lane.submit({ route: "GET /x", request: request(), deadline: Date.now() + 500, timeoutMs: 500 }), { name: "DeadlineError" });
    assert.ok(Date.now() - before >= 450);
    const { Queue } = await import("bullmq");
    const queue = new Queue("jobs", { prefix: "loopwise", connection: { host: "127.0.0.1", port: redis.port } });
    try {
      assert.equal(await queue.getWaitingCount(), 0);
    } finally {
      await queue.close();
    }
  } finally {
    await lane.close();
  }
});
