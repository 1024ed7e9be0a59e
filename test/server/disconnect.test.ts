// Clients that leave: `req.signal` aborts, the access log says 499, and work queued for them never runs.
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app, noticed, ran } from "../fixtures/disconnect-app.ts";
import { captureLogs, delay, request } from "../helpers.ts";

let server: RunningServer;
const logs = captureLogs();
before(async () => {
  server = await serve(app, { port: 0, poolSize: 1, maxPoolSize: 1, logWrite: logs.write, logFormat: "json" });
});
after(() => server.close());

/** Sends a GET and hangs up after `ms`, before any answer. */
function leaveAfter(path: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest(server.url + path, { agent: false });
    req.on("error", () => resolve());
    req.end();
    setTimeout(() => {
      req.destroy();
      resolve();
    }, ms);
  });
}

const accessLines = (path: string) => logs.out.map((line) => JSON.parse(line)).filter((entry) => entry.event === "access" && entry.path === path);

test("a loop-lane handler's req.signal aborts when its client leaves; the access log says 499", async () => {
  noticed.reset();
  await leaveAfter("/loop/wait", 100);
  for (let i = 0; i < 100 && noticed.value === 0; i++) await delay(10);
  assert.equal(noticed.value, 1);
  await delay(50);
  const [entry] = accessLines("/loop/wait");
  assert.equal(entry?.status, 499);
});

test("worker-lane requests whose clients left while queued never run; each is logged 499", async () => {
  ran.reset();
  const busy = request(`${server.url}/worker/sleep/600`);
  await delay(100);
  await Promise.all([1, 2, 3, 4, 5].map(() => leaveAfter("/worker/sleep/1", 150)));
  assert.equal((await busy).status, 200);
  await delay(200);
  assert.equal(ran.value, 1, "only the request whose client stayed ran");
  const dropped = accessLines("/worker/sleep/1");
  assert.equal(dropped.length, 5);
  assert.ok(
    dropped.every((entry) => entry.status === 499),
    JSON.stringify(dropped.map((e) => e.status)),
  );
});

test("a running worker-lane handler sees req.signal abort when its client leaves, and can stop early", async () => {
  noticed.reset();
  ran.reset();
  await leaveAfter("/worker/steps", 200);
  for (let i = 0; i < 100 && noticed.value === 0; i++) await delay(20);
  assert.equal(noticed.value, 1, "the handler saw the abort between its steps");
  assert.equal((await request(`${server.url}/worker/sleep/1`)).status, 200);
});
