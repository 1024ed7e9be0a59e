// The examples the README shows, run as they are.
import assert from "node:assert/strict";
import { pbkdf2Sync } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app } from "../examples/basics/main.ts";
import { captureLogs, request } from "./helpers.ts";

describe("examples/basics", () => {
  let server: RunningServer;
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, logWrite: captureLogs().write });
  });
  after(() => server.close());

  test("offload() hashes on the pool from an async route", async () => {
    const reply = await request(server.url + "/hash", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: "hunter2" }),
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.json.hash, pbkdf2Sync("hunter2", "salt", 100_000, 32, "sha256").toString("hex"));
  });

  test("path params, repeated query keys and HTTPError", async () => {
    assert.deepEqual((await request(server.url + "/items/7?tag=a&tag=b")).json, { id: "7", tags: ["a", "b"] });
    const missing = await request(server.url + "/items/0");
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { detail: "Item not found" });
  });

  test("route status and json() with headers", async () => {
    const created = await request(server.url + "/items", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name":"x"}',
    });
    assert.equal(created.status, 201);
    assert.deepEqual(created.json, { name: "x" });
    const teapot = await request(server.url + "/teapot");
    assert.equal(teapot.status, 418);
    assert.equal(teapot.headers["x-kind"], "teapot");
  });
});

describe("examples/shared-state", () => {
  test("the shared counter sees every hit; the module global counts per worker", async () => {
    const { app: shared } = await import("../examples/shared-state/main.ts");
    const server = await serve(shared, { port: 0, poolSize: 2, logWrite: captureLogs().write });
    try {
      const replies = await Promise.all(Array.from({ length: 40 }, () => request(server.url + "/hit", { method: "POST" })));
      await request(server.url + "/vote/1", { method: "POST" });
      await request(server.url + "/vote/1", { method: "POST" });
      const stats = (await request(server.url + "/stats")).json;
      assert.equal(stats.hits, 40);
      assert.deepEqual(stats.votes, [0, 2, 0]);
      // Each worker's own copy of `perThread` never reaches 40 unless one worker took every hit.
      const maxPerThread = Math.max(...replies.map((r) => r.json.perThread));
      assert.ok(maxPerThread <= 40);
      assert.deepEqual([...new Set(replies.map((r) => r.json.hits))].length, 40, "two hits saw the same count");
    } finally {
      await server.close();
    }
  });
});
