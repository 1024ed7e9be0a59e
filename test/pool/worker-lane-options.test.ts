// The worker lane's options: flags to serve() options, and their defaults in the server's config.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFlags, runFlags } from "../../src/cli/flags.ts";
import { serveOptions } from "../../src/cli/serve-options.ts";
import { resolveConfig } from "../../src/server/config.ts";

test("--max-pool-size, --worker-idle-timeout and --max-queue-wait reach serve()", () => {
  const args = ["app.ts", "--pool-size", "2", "--max-pool-size", "8", "--worker-idle-timeout", "500", "--max-queue-wait", "2000"];
  assert.deepEqual(serveOptions(parseFlags(args, runFlags).given), { poolSize: 2, maxPoolSize: 8, workerIdleTimeout: 500, maxQueueWait: 2000 });
});

test("defaults: the pool grows to 40 (or its core, if larger), retires after 10 s idle, sheds past a 5 s wait", () => {
  const small = resolveConfig({ poolSize: 4 }, "file:///app.ts");
  assert.deepEqual([small.maxPoolSize, small.workerIdleTimeout, small.maxQueueWait, small.maxQueue], [40, 10_000, 5000, 1024]);
  assert.equal(resolveConfig({ poolSize: 64 }, "file:///app.ts").maxPoolSize, 64);
});

test("a max pool size below the pool size is an error, not silently raised", () => {
  assert.throws(
    () => resolveConfig({ poolSize: 8, maxPoolSize: 4 }, "file:///app.ts"),
    /maxPoolSize must be a whole number at least poolSize \(8\), got 4/,
  );
});
