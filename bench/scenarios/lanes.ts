// Scenario `lanes`: the cost of each lane's crossing, Loopwise alone (no peers, so it is quick):
// a trivial route on the loop lane and one on the worker lane, req/s and the server's CPU per
// request, the best of `rounds`. Run it before and after a change to the request path.
import type { BenchContext } from "../lib/context.ts";
import { closedLoop, type Throughput } from "../lib/load.ts";
import { peers, withPeer } from "../lib/peer.ts";
import { fmt, printTable, type Row } from "../lib/table.ts";

const durationSec = Number(process.env.BENCH_DURATION ?? 5);
const connections = 32;

export async function lanes(context: BenchContext): Promise<void> {
  const paths = { loop: "/hello", worker: "/trivial" } as const;
  const best = new Map<string, Throughput>();
  await withPeer(peers.loopwise(), async (peer) => {
    for (let round = 0; round < context.rounds; round++) {
      for (const [lane, path] of Object.entries(paths)) {
        const url = `${peer.url}${path}`;
        await closedLoop({ url, connections, durationSec: 1 });
        const before = await peer.stats();
        const result = await closedLoop({ url, connections, durationSec });
        const after = await peer.stats();
        if (result.failures > 0) throw new Error(`${result.failures} failed requests on ${path}`);
        result.cpuUsPerRequest = ((after.cpuMs - before.cpuMs) * 1000) / result.total;
        const previous = best.get(lane);
        if (!previous || result.reqPerSec > previous.reqPerSec) best.set(lane, result);
      }
    }
  });
  const rows: Row[] = [...best].map(([lane, r]) => ({
    lane,
    route: paths[lane as keyof typeof paths],
    "req/s": fmt.int(r.reqPerSec),
    "p99 ms": fmt.ms(r.p99Ms),
    "server CPU µs/req": r.cpuUsPerRequest!.toFixed(1),
  }));
  printTable(`(l) Each lane's trivial route, Loopwise alone, ${connections} connections, ${durationSec} s`, rows, context.markdown);
}
