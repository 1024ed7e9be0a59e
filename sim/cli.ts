// `npm run simulate`: the pool's policy in virtual time, on a machine of any size.
//   npm run simulate -- --scenario sleepers --concurrency 40 --sleep-ms 1000 --cores 2 [--json]
//   npm run simulate -- --table            the table of docs/performance.md (2, 16, 64 cores)
//   npm run simulate -- --calibrate        measures this machine's worker cost (builds first)
// Options: --cpu-ms C (the CPU-bound requests' work), --pool-size, --max-pool-size,
// --max-queue-wait MS, --growth-at-once K (default: the pool's defaults for that many cores),
// --worker-start-cpu-ms MS (what if a worker cost that much CPU to start; default: the calibration).
import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { defaultIdleTimeoutMs, defaultMaxPoolSize, defaultMaxQueueWaitMs, defaultPoolSize } from "../src/pool/pool-options.ts";
import { measuredHere } from "./calibration.ts";
import { scenarios } from "./scenarios.ts";
import { SimWorld, type SimResult } from "./world.ts";

/** The flags, for --help (each is also a key of the options below). */
const flags: [string, string][] = [
  ["--scenario", `one of: ${Object.keys(scenarios).join(", ")} (default sleepers)`],
  ["--concurrency", "requests at once (default 40)"],
  ["--sleep-ms", "the blocking requests' wait, ms (default 1000)"],
  ["--cpu-ms", "the CPU-bound requests' work, ms (default 100)"],
  ["--cores", "the machine's cores (default: this one's)"],
  ["--pool-size", "the core (default: the pool's default for those cores)"],
  ["--max-pool-size", "the max (default: likewise)"],
  ["--max-queue-wait", "the wait limit, ms (default 5000)"],
  ["--growth-at-once", "growth workers starting at once (default: the cores, at least 2)"],
  ["--worker-start-cpu-ms", `a worker's CPU to start, ms (default: ${measuredHere.workerStartCpuMs}, measured here)`],
  ["--json", "one line of JSON"],
  ["--table", "the table of docs/performance.md: 2, 16 and 64 cores"],
  ["--calibrate", "measure this machine's worker cost"],
];

const { values } = parseArgs({
  options: {
    scenario: { type: "string", default: "sleepers" },
    concurrency: { type: "string", default: "40" },
    "sleep-ms": { type: "string", default: "1000" },
    "cpu-ms": { type: "string", default: "100" },
    cores: { type: "string", default: String(availableParallelism()) },
    "pool-size": { type: "string" },
    "max-pool-size": { type: "string" },
    "max-queue-wait": { type: "string" },
    "growth-at-once": { type: "string" },
    "worker-start-cpu-ms": { type: "string" },
    json: { type: "boolean", default: false },
    table: { type: "boolean", default: false },
    calibrate: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

interface Case {
  scenario: string;
  concurrency: number;
  sleepMs: number;
  cpuMs: number;
  cores: number;
}

export interface Prediction {
  scenario: string;
  cores: number;
  concurrency: number;
  poolSize: number;
  maxPoolSize: number;
  lastDoneMs: number;
  helloMs: number | null;
  peakWorkers: number;
  peakMb: number;
  refused: number;
  /** Real time the simulation took, ms. */
  simulatedInMs: number;
}

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number ≥ 0, got ${JSON.stringify(value)}`);
  return n;
}

export function simulate(c: Case): Prediction {
  const scenario = scenarios[c.scenario];
  if (!scenario) throw new Error(`unknown scenario ${JSON.stringify(c.scenario)}; known: ${Object.keys(scenarios).join(", ")}`);
  const poolSize = number("pool-size", values["pool-size"]) ?? defaultPoolSize(c.cores);
  const maxPoolSize = number("max-pool-size", values["max-pool-size"]) ?? defaultMaxPoolSize(poolSize, c.cores);
  const started = performance.now();
  const world = new SimWorld(
    {
      ...measuredHere,
      workerStartCpuMs: number("worker-start-cpu-ms", values["worker-start-cpu-ms"]) ?? measuredHere.workerStartCpuMs,
      cores: c.cores,
    },
    {
      coreSize: poolSize,
      maxSize: maxPoolSize,
      maxQueue: 1024,
      maxQueueWaitMs: number("max-queue-wait", values["max-queue-wait"]) ?? defaultMaxQueueWaitMs,
      idleTimeoutMs: defaultIdleTimeoutMs,
      growthStartsAtOnce: number("growth-at-once", values["growth-at-once"]),
    },
  );
  const result: SimResult = world.run(scenario.arrivals(c));
  return {
    scenario: c.scenario,
    cores: c.cores,
    concurrency: c.concurrency,
    poolSize,
    maxPoolSize,
    lastDoneMs: Math.round(result.lastDoneMs),
    helloMs: result.named.hello === undefined ? null : Math.round(result.named.hello * 10) / 10,
    peakWorkers: result.peakWorkers,
    peakMb: Math.round(result.peakMb),
    refused: result.refused,
    simulatedInMs: Math.round(performance.now() - started),
  };
}

function row(p: Prediction): string {
  const hello = p.helloMs === null ? "503" : `${p.helloMs} ms`;
  return `| ${p.cores} | ${p.scenario} | ${p.concurrency} | ${p.poolSize} → ${p.maxPoolSize} | ${(p.lastDoneMs / 1000).toFixed(2)} s | ${hello} | ${p.peakWorkers} | ${p.peakMb} MB | ${p.refused} |`;
}

const header =
  "| cores | scenario | requests | pool (core → max) | last answered | quick request | peak workers | peak memory | 503s |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |";

function calibrate(): void {
  const child = (n: number) =>
    JSON.parse(
      execFileSync(process.execPath, ["--expose-gc", "bench/lib/worker-cost-child.mjs", "examples/seed/main.ts", String(n)], { encoding: "utf8" })
        .trim()
        .split("\n")
        .at(-1)!,
    );
  execFileSync("npm", ["run", "build"], { stdio: "ignore" });
  const one = child(1);
  const many = child(16);
  console.log(`one worker: ready in ${one.readyMs.toFixed(0)} ms, ${one.cpuMs.toFixed(0)} ms of CPU`);
  console.log(`16 workers: ${(many.cpuMs / 16).toFixed(1)} ms of CPU and ${(many.grownMb / 16).toFixed(1)} MB each (sim/calibration.ts)`);
}

if (values.help) {
  console.log("npm run simulate -- [flags]: the pool's policy in virtual time\n");
  for (const [flag, help] of flags) console.log(`  ${flag.padEnd(18)} ${help}`);
} else if (values.calibrate) calibrate();
else if (values.table) {
  console.log(header);
  for (const cores of [2, 16, 64]) {
    for (const concurrency of [40, 400, 4000]) console.log(row(simulate({ scenario: "sleepers", concurrency, sleepMs: 1000, cpuMs: 100, cores })));
    console.log(row(simulate({ scenario: "cpu-flood", concurrency: 400, sleepMs: 0, cpuMs: 100, cores })));
  }
} else {
  const prediction = simulate({
    scenario: values.scenario!,
    concurrency: number("concurrency", values.concurrency)!,
    sleepMs: number("sleep-ms", values["sleep-ms"])!,
    cpuMs: number("cpu-ms", values["cpu-ms"])!,
    cores: number("cores", values.cores)!,
  });
  if (values.json) console.log(JSON.stringify(prediction));
  else console.log(`${header}\n${row(prediction)}\n(simulated in ${prediction.simulatedInMs} ms)`);
}
