// Scenario `ts-start`: what loading a TypeScript app costs the `loopwise run` process, with
// Node's own type stripping (22.18+, the default where the app's tsconfig allows it) and with
// tsx (forced with --no-experimental-strip-types): time from spawn until the server listens, the
// process's CPU and its RSS then. The seed app, one worker (compiled once either way), so the
// main thread's loader is what differs. On an older Node only the tsx row is measured:
//   bash scripts/with-node.sh 24 npm run bench -- ts-start
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import type { BenchContext } from "../lib/context.ts";
import { sampleProcess } from "../lib/proc.ts";
import { fmt, printTable, type Row } from "../lib/table.ts";

interface Start {
  listeningMs: number;
  cpuMs: number;
  rssMb: number;
}

const cli = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const stripsTypes = Boolean((process.features as { typescript?: string | false }).typescript);

/** The process's CPU time so far (user + system), from /proc/PID/stat: ticks of 10 ms on Linux. */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The fields after the command's closing parenthesis start at the third, the state; utime and stime are the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function startOnce(nodeOptions: string): Promise<Start> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const child = spawn(
      process.execPath,
      [cli, "run", "examples/seed/main.ts:app", "--port", "0", "--pool-size", "1", "--log-format", "json", "--no-loop-monitor"],
      {
        env: { ...process.env, NODE_OPTIONS: nodeOptions },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    let listening = false;
    const onLine = (line: string) => {
      if (listening || !line.includes('"event":"listening"')) return;
      listening = true;
      const listeningMs = performance.now() - startedAt;
      const sample = { listeningMs, cpuMs: cpuMsOf(child.pid!), rssMb: sampleProcess(child.pid!).rssMb };
      clearTimeout(timer);
      child.kill("SIGTERM");
      child.once("exit", () => resolve(sample));
    };
    for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on("line", onLine);
    child.once("exit", (code) => {
      if (!listening) reject(new Error(`loopwise run exited with ${code} before listening`));
    });
  });
}

export async function typescriptStart(ctx: BenchContext): Promise<void> {
  const ways = [
    ...(stripsTypes ? [{ name: "Node's type stripping (default)", nodeOptions: "" }] : []),
    {
      name: stripsTypes ? "tsx (--no-experimental-strip-types)" : "tsx (this Node cannot strip types)",
      nodeOptions: stripsTypes ? "--no-experimental-strip-types" : "",
    },
  ];
  const rounds = Math.max(3, ctx.rounds);
  const results = new Map<string, Start>();
  for (let round = 0; round < rounds; round++) {
    for (const way of ways) {
      const start = await startOnce(way.nodeOptions);
      const best = results.get(way.name);
      if (!best || start.listeningMs < best.listeningMs) results.set(way.name, start);
    }
  }
  const rows: Row[] = [...results].map(([name, start]) => ({
    "main thread loads the app with": name,
    "listening after ms": fmt.ms(start.listeningMs),
    "process CPU ms": fmt.int(start.cpuMs),
    "RSS MB": start.rssMb.toFixed(1),
  }));
  printTable(`Starting \`loopwise run\` on the seed app (TypeScript), Node ${process.version}, one worker; best of ${rounds}`, rows, ctx.markdown);
  if (ways.length === 2) {
    const [native, tsx] = ways.map((way) => results.get(way.name)!);
    ctx.target(
      "(ts-start) Node's type stripping starts the server sooner than tsx (its RSS is reported, not judged: Node's stripper is a WebAssembly module of its own)",
      native!.listeningMs < tsx!.listeningMs,
      `${fmt.ms(native!.listeningMs)} ms, ${native!.rssMb.toFixed(1)} MB vs ${fmt.ms(tsx!.listeningMs)} ms, ${tsx!.rssMb.toFixed(1)} MB`,
    );
  }
}
