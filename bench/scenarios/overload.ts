// Scenario `overload`: 2,000 requests at once, each on its own connection, at a route that burns
// 300 ms of CPU on a worker, every server with its defaults. The flood comes from a process of its
// own (bench/lib/flood.ts), which gives a request up after 30 s so a run is bounded. What matters
// to the clients: how many got their 200 per second, how many got any answer within 10 s, and how
// long the answers took; and what the server's memory did. Once the flood's clients have all
// been answered or have given up, one fresh request to a trivial worker-lane route says whether
// the server is back to serving, or still busy with work for clients that are gone.
import { Agent } from "node:http";
import type { BenchContext } from "../lib/context.ts";
import { floodFrom, type FloodResult } from "../lib/flood-from.ts";
import { percentile, timedGet } from "../lib/load.ts";
import { peers, withPeer, type Peer } from "../lib/peer.ts";
import { watchProcess } from "../lib/proc.ts";
import { fmt, printTable, type Row } from "../lib/table.ts";

const floodSize = 2000;
const route = "/burn-300ms";
const answerBoundMs = 10_000;
const patienceMs = 30_000;
/** How long the fresh request after the flood may wait: the goal is within a second. */
const recoveryPatienceMs = 10_000;

interface OverloadRun {
  flood: FloodResult;
  ok: number;
  shed: number;
  withinBound: number;
  /** 200s per second, over the time until the last request was answered or given up. */
  goodput: number;
  p99Ms: number;
  /** The fresh worker-lane request after the flood; null when it had no 200 in time. */
  recoveryMs: number | null;
  idleRssMb: number;
  peakRssMb: number;
  peakThreads: number;
}

async function overloadRun(peer: Peer): Promise<OverloadRun> {
  // One call first, so that the flood does not also measure the route's first compile.
  const agent = new Agent();
  await timedGet(agent, `${peer.url}${route}`, patienceMs);
  agent.destroy();
  const watch = watchProcess(peer.pid);
  const flood = await floodFrom(`${peer.url}${route}`, floodSize, patienceMs);
  const fresh = new Agent();
  const recovery = await timedGet(fresh, `${peer.url}/trivial`, recoveryPatienceMs);
  fresh.destroy();
  const memory = watch.stop();
  const latencies = flood.answers.map(([, ms]) => ms).sort((a, b) => a - b);
  const ok = flood.answers.filter(([status]) => status === 200).length;
  return {
    flood,
    ok,
    shed: flood.answers.filter(([status]) => status === 503).length,
    withinBound: latencies.filter((ms) => ms <= answerBoundMs).length,
    goodput: ok / flood.seconds,
    p99Ms: percentile(latencies, 99),
    recoveryMs: recovery.status === 200 ? recovery.ms : null,
    ...memory,
  };
}

function row(name: string, run: OverloadRun): Row {
  const unanswered = floodSize - run.flood.answers.length;
  return {
    server: name,
    "goodput (200s/s)": run.goodput.toFixed(1),
    "200s": String(run.ok),
    "503s": String(run.shed),
    [`no answer in ${patienceMs / 1000} s`]: String(unanswered),
    [`answered within ${answerBoundMs / 1000} s`]: `${((100 * run.withinBound) / floodSize).toFixed(1)} %`,
    "p99 of the answers ms": fmt.ms(run.p99Ms),
    "fresh /trivial after it ms": run.recoveryMs === null ? `> ${fmt.int(recoveryPatienceMs)}` : fmt.ms(run.recoveryMs),
    "threads (peak)": String(run.peakThreads),
    "RSS MB (idle → peak)": `${run.idleRssMb.toFixed(0)} → ${run.peakRssMb.toFixed(0)}`,
  };
}

export async function overload(ctx: BenchContext): Promise<void> {
  const specs = [peers.fastifyPiscina(), peers.loopwise()];
  const best = new Map<string, OverloadRun>();
  for (let round = 0; round < ctx.rounds; round++) {
    for (const spec of specs) {
      const run = await withPeer(spec, overloadRun);
      const previous = best.get(spec.name);
      if (!previous || run.goodput > previous.goodput) best.set(spec.name, run);
    }
  }
  printTable(
    `Overload: ${fmt.int(floodSize)} requests at once at a 300 ms CPU route on a worker, default settings; clients give up after ${patienceMs / 1000} s; best of ${ctx.rounds} rounds (by goodput)`,
    specs.map((spec) => row(spec.name, best.get(spec.name)!)),
    ctx.markdown,
  );
  const ours = best.get("Loopwise")!;
  ctx.target(
    `(overload) every request answered (200 or 503) within ${answerBoundMs / 1000} s`,
    ours.withinBound === floodSize,
    `${((100 * ours.withinBound) / floodSize).toFixed(1)} % (p99 of the answers ${fmt.ms(ours.p99Ms)} ms)`,
  );
  ctx.target(
    "(overload) a fresh worker-lane request answered within 1 s once the flood is over",
    ours.recoveryMs !== null && ours.recoveryMs <= 1000,
    ours.recoveryMs === null ? `no answer in ${recoveryPatienceMs / 1000} s` : `${fmt.ms(ours.recoveryMs)} ms`,
  );
}
