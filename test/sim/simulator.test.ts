// The simulator: the pool's own policy on a model of the machine, in virtual time.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { measuredHere } from "../../sim/calibration.ts";
import { scenarios } from "../../sim/scenarios.ts";
import { SimWorld } from "../../sim/world.ts";
import { defaultMaxPoolSize, defaultPoolSize } from "../../src/pool/pool-options.ts";

function run(scenario: string, cores: number, concurrency: number, sleepMs = 1000, cpuMs = 100) {
  const coreSize = defaultPoolSize(cores);
  const world = new SimWorld(
    { ...measuredHere, cores },
    { coreSize, maxSize: defaultMaxPoolSize(coreSize, cores), maxQueue: 1024, maxQueueWaitMs: 5000, idleTimeoutMs: 10_000 },
  );
  return world.run(scenarios[scenario]!.arrivals({ concurrency, sleepMs, cpuMs }));
}

test("40 sleepers on 2 cores: all answered in about one sleep plus the workers' start, and the never-seen quick request is not kept waiting", () => {
  const result = run("sleepers", 2, 40);
  assert.equal(result.answered, 41);
  assert.equal(result.refused, 0);
  // Measured on this machine's real pool: 1.78-2.24 s.
  assert.ok(result.lastDoneMs > 1500 && result.lastDoneMs < 3000, `last done at ${result.lastDoneMs} ms`);
  assert.ok(result.named.hello! < 300, `the quick request took ${result.named.hello} ms`);
  assert.equal(result.peakWorkers, 40);
});

test("a CPU flood on 2 cores does not grow the pool past its core (but for the quick worker)", () => {
  const result = run("cpu-flood", 2, 400);
  assert.ok(result.peakWorkers <= defaultPoolSize(2) + 1, `peak ${result.peakWorkers} workers`);
  assert.ok(result.resizes.every((e) => e.kind !== "grow"));
  assert.ok(result.refused > 0, "20 s of CPU work on 2 cores is shed past the 5 s wait limit");
});

test("64 cores and 4,000 concurrent requests simulate in well under a minute", () => {
  const started = performance.now();
  const result = run("sleepers", 64, 4000);
  assert.ok(performance.now() - started < 20_000);
  assert.equal(result.answered + result.refused, 4001);
  assert.ok(result.peakWorkers <= defaultMaxPoolSize(16, 64) + 1);
});

test("npm run simulate prints JSON with what the bench prints", () => {
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", "sim/cli.ts", "--scenario", "mixed", "--concurrency", "100", "--sleep-ms", "500", "--cores", "16", "--json"],
    { encoding: "utf8", cwd: new URL("../../", import.meta.url).pathname },
  );
  const prediction = JSON.parse(out);
  for (const key of ["lastDoneMs", "helloMs", "peakWorkers", "peakMb", "refused"]) assert.ok(key in prediction, key);
  assert.equal(prediction.cores, 16);
  assert.throws(() =>
    execFileSync(process.execPath, ["--import", "tsx", "sim/cli.ts", "--scenario", "nope"], {
      encoding: "utf8",
      cwd: new URL("../../", import.meta.url).pathname,
      stdio: "pipe",
    }),
  );
});
