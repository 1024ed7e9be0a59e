// Scenario `entry-cost`: what importing the package costs each pool worker, which imports the
// app and so the package: an empty worker (the floor), the core (`loopwise`), and the core with
// every subpath a worker may load (security, middleware, queue). 16 workers in a fresh process
// (bench/lib/entry-cost-child.mjs), best of the rounds: CPU until all imported, heap after.
import { execFileSync } from "node:child_process";
import type { BenchContext } from "../lib/context.ts";
import { fmt, printTable, type Row } from "../lib/table.ts";

interface Cost {
  cpuMs: number;
  heapMb: number;
}

const cases = [
  { name: "an empty worker", specifiers: [] },
  { name: "loopwise (the core)", specifiers: ["loopwise"] },
  { name: "loopwise + /security, /middleware, /queue", specifiers: ["loopwise", "loopwise/security", "loopwise/middleware", "loopwise/queue"] },
];
const workers = 16;

function measure(specifiers: string[]): Cost {
  const out = execFileSync(process.execPath, ["--expose-gc", "bench/lib/entry-cost-child.mjs", String(workers), ...specifiers], {
    encoding: "utf8",
    timeout: 120_000,
  });
  return JSON.parse(out.trim()) as Cost;
}

export async function entryCost(ctx: BenchContext): Promise<void> {
  const best = new Map<string, Cost>();
  for (let round = 0; round < Math.max(3, ctx.rounds); round++) {
    for (const c of cases) {
      const cost = measure(c.specifiers);
      const previous = best.get(c.name);
      if (!previous || cost.cpuMs < previous.cpuMs) best.set(c.name, cost);
    }
  }
  const floor = best.get(cases[0]!.name)!;
  const rows: Row[] = cases.map((c) => {
    const cost = best.get(c.name)!;
    return {
      "a worker imports": c.name,
      "CPU per worker ms": fmt.ms(cost.cpuMs),
      "of which the import ms": fmt.ms(cost.cpuMs - floor.cpuMs),
      "heap per worker MB": cost.heapMb.toFixed(2),
    };
  });
  printTable(`What importing the package costs a worker: ${workers} workers in a fresh process, best of the rounds`, rows, ctx.markdown);
}
