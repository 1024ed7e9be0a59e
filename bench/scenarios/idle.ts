// Scenario `idle`: the server's own memory at rest. A JavaScript app (the seed, so no TypeScript
// loader is counted) on a pool of 1, with and without the loop monitor's thread, beside node:http
// answering at once: each started in a fresh process, its RSS read from /proc once it has
// listened and settled. The lowest of the rounds is kept: other work only ever adds to a reading.
import type { BenchContext } from "../lib/context.ts";
import { startPeer, type PeerSpec } from "../lib/peer.ts";
import { sampleProcess } from "../lib/proc.ts";
import { printTable, type Row } from "../lib/table.ts";

const cli = new URL("../../dist/cli/main.js", import.meta.url).pathname;
/** A server, and the path of the one request it answers before being measured. */
type Idle = { spec: PeerSpec; path: string };
const seed = (name: string, extra: string[]): Idle => ({
  spec: { name, args: [cli, "run", "bench/peers/seed.mjs:app", "--port", "0", "--log-format", "json", "--pool-size", "1", ...extra] },
  // A worker-lane route: the pool's worker has answered once.
  path: "/sync/hello",
});
// Plain JavaScript too, with no loader: the floor for any Node server.
const rawHttp = `require("node:http").createServer((req, res) => res.end("hello")).listen(0, "127.0.0.1", function () {
  console.error(JSON.stringify({ event: "listening", url: "http://127.0.0.1:" + this.address().port }));
});`;
const servers: Idle[] = [
  { spec: { name: "node:http", args: ["-e", rawHttp] }, path: "/" },
  seed("Loopwise, JavaScript app, pool of 1", []),
  seed("Loopwise, the same, --no-loop-monitor", ["--no-loop-monitor"]),
];

async function idleRssMb({ spec, path }: Idle): Promise<number> {
  const peer = await startPeer(spec);
  try {
    await fetch(`${peer.url}${path}`).then((r) => r.arrayBuffer());
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return sampleProcess(peer.pid).rssMb;
  } finally {
    await peer.stop();
  }
}

export async function idle(ctx: BenchContext): Promise<void> {
  const rss = new Map<string, number>();
  for (let round = 0; round < ctx.rounds; round++) {
    for (const server of servers) {
      const { name } = server.spec;
      rss.set(name, Math.min(rss.get(name) ?? Number.POSITIVE_INFINITY, await idleRssMb(server)));
    }
  }
  const floor = rss.get(servers[0]!.spec.name)!;
  const rows: Row[] = servers.map(({ spec }) => ({
    server: spec.name,
    "RSS MB": rss.get(spec.name)!.toFixed(1),
    "vs node:http": `+${(rss.get(spec.name)! - floor).toFixed(1)} MB`,
  }));
  printTable(`The server's idle memory, after one request: lowest of ${ctx.rounds} rounds`, rows, ctx.markdown);
  const ours = rss.get(servers[1]!.spec.name)!;
  ctx.target("(d) a JavaScript app on a pool of 1, idle RSS ≤ 70 MB", ours <= 70, `${ours.toFixed(0)} MB, node:http ${floor.toFixed(0)} MB`);
}
