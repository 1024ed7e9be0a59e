// Scenario `worker-cost`: what one pool worker costs to start and to keep, for the seed app as
// TypeScript (compiled once by the main thread, the default; and with tsx in every worker, as
// before) and as plain JavaScript. Each measurement starts a pool in a fresh process
// (bench/lib/worker-cost-child.mjs): 1 worker, then 16, timed from `pool.start()` (compiling
// included) until every worker loaded the app; CPU and RSS growth divided by the workers. Beside
// them, the floor: as many empty worker threads (bench/lib/empty-worker-child.mjs).
import { execFileSync } from "node:child_process";
import type { BenchContext } from "../lib/context.ts";
import { fmt, printTable, type Row } from "../lib/table.ts";

interface Cost {
  loader: string;
  readyMs: number;
  cpuMs: number;
  grownMb: number;
}

interface Case {
  name: string;
  /** The app the pool loads; none for the empty workers. */
  module?: string;
  /** Forced ways to load it (default: the pool's choice). */
  loaders?: string;
}

const cases: Case[] = [
  { name: "TypeScript app, compiled once (default)", module: "examples/seed/main.ts" },
  { name: "TypeScript app, tsx in every worker (before)", module: "examples/seed/main.ts", loaders: "tsx" },
  { name: "JavaScript app", module: "bench/peers/seed.mjs" },
  { name: "an empty Node worker (the floor)" },
];
const many = 16;

function measure(c: Case, size: number): Cost {
  const args = c.module
    ? ["--expose-gc", "bench/lib/worker-cost-child.mjs", c.module, String(size), ...(c.loaders ? [c.loaders] : [])]
    : ["--expose-gc", "bench/lib/empty-worker-child.mjs", String(size)];
  const out = execFileSync(process.execPath, args, { encoding: "utf8", timeout: 120_000 });
  return JSON.parse(out.trim().split("\n").at(-1)!) as Cost;
}

/** The best of the rounds (shared machines only ever make a start slower). */
function best(c: Case, size: number, rounds: number): Cost {
  let found: Cost | undefined;
  for (let round = 0; round < rounds; round++) {
    const cost = measure(c, size);
    if (!found || cost.readyMs < found.readyMs) found = cost;
  }
  return found!;
}

export async function workerCost(ctx: BenchContext): Promise<void> {
  const rows: Row[] = [];
  const perWorker = new Map<string, { cpuMs: number; mb: number }>();
  for (const c of cases) {
    const one = best(c, 1, ctx.rounds);
    const lot = best(c, many, ctx.rounds);
    const cost = { cpuMs: lot.cpuMs / many, mb: lot.grownMb / many };
    perWorker.set(c.name, cost);
    rows.push({
      app: c.name,
      "workers load it": lot.loader,
      "first worker ready ms": fmt.ms(one.readyMs),
      [`${many} workers ready ms`]: fmt.ms(lot.readyMs),
      "CPU per worker ms": cost.cpuMs.toFixed(1),
      "RSS per worker MB": cost.mb.toFixed(1),
    });
  }
  printTable(
    `What a worker costs: the seed app, pools of 1 and ${many} workers started in fresh processes; best of ${ctx.rounds} rounds`,
    rows,
    ctx.markdown,
  );
  const ts = perWorker.get(cases[0]!.name)!;
  const js = perWorker.get(cases[2]!.name)!;
  const empty = perWorker.get(cases[3]!.name)!;
  const beside = `, an empty worker ${empty.mb.toFixed(1)} MB and ${empty.cpuMs.toFixed(1)} ms`;
  ctx.target("(d) a worker of the seed app costs ≤ 9 MB of RSS", ts.mb <= 9, `${ts.mb.toFixed(1)} MB${beside}`);
  ctx.target("(d) a worker of the seed app costs ≤ 25 ms of CPU to start", ts.cpuMs <= 25, `${ts.cpuMs.toFixed(1)} ms${beside}`);
  ctx.target(
    "(worker-cost) a TypeScript app's worker costs within 1.25× a JavaScript app's (RSS)",
    ts.mb <= 1.25 * js.mb,
    `${ts.mb.toFixed(1)} MB vs ${js.mb.toFixed(1)} MB`,
  );
}
