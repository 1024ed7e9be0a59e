// `npm run bench` — Loopwise side by side with its peers, each in its own process, one run.
//   npm run bench                      hello, serialise, monitor, validated, middleware, worker, worker-cost, idle, burn and flood scenarios
//   npm run bench -- hello worker      only those scenarios (serialise: a response schema beside Fastify's;
//                                      validated: the cost of a Zod-validated query;
//                                      middleware: none vs one no-op vs requestId + cors + compression)
//   npm run bench -- soak              60 s of mixed load (BENCH_SOAK_SEC to change)
//   npm run bench -- lanes             each lane's trivial route, Loopwise alone (quick: before/after a change)
//   npm run bench -- files             static files: Loopwise's mount beside node:http + send
//   npm run bench -- queue             the queue lane's added latency, and throughput with 1, 2 and 4
//                                      `loopwise worker` processes (starts Debian's redis-server)
//   npm run bench -- blocking overload 1 s blocking plain handlers beside FastAPI + uvicorn (installs
//                                      Debian's python3-fastapi when missing); a 2,000-request flood
//   npm run bench -- worker-cost       what one pool worker costs to start and keep, TypeScript and JavaScript,
//                                      beside an empty worker
//   npm run bench -- idle              the server's idle memory: a JavaScript app on a pool of 1, beside node:http
//   npm run bench -- websocket         WebSocket echoes, idle connections and an unread flood, beside bare ws
//   npm run bench -- uploads           20 MiB multipart uploads spooled to disk, beside node:http + busboy:
//                                      throughput, CPU and the server's RSS growth
//   npm run bench -- check             loopwise check on apps of 50 and 200 routes, beside loading
//                                      them (loopwise routes) and tsc --noEmit over the same files
//   npm run bench -- install           what `npm i` brings into a new project: Loopwise (packed from here),
//                                      Fastify, Hono and Express side by side, from the npm registry
//   npm run bench -- ts-start          starting `loopwise run` on a TypeScript app: Node's type stripping
//                                      vs tsx (on Node 22.18+: bash scripts/with-node.sh 24 npm run bench -- ts-start)
//   npm run bench -- entry-cost        what importing the package costs a pool worker: the core alone,
//                                      and with the subpaths an app may add
//   npm run bench -- tracing           OpenTelemetry: no SDK vs NodeSDK exporting every span, and what the
//                                      checks made without an SDK cost per request
//   npm run bench -- --markdown        tables as Markdown, for the README
// BENCH_DURATION (seconds per measurement, default 5) and BENCH_ROUNDS (default 2; the best
// round of each peer is kept, since these shared machines are noisy) tune the closed-loop runs.
import { availableParallelism } from "node:os";
import { Agent } from "node:http";
import type { BenchContext } from "./lib/context.ts";
import { floodFrom } from "./lib/flood-from.ts";
import { closedLoop, fetchVia, openLoopProbe, percentile, type Throughput } from "./lib/load.ts";
import { peers, withPeer, type Peer, type PeerSpec } from "./lib/peer.ts";
import { fmt, printTable, type Row } from "./lib/table.ts";
import { calibrate } from "./peers/burn.ts";
import { blocking } from "./scenarios/blocking.ts";
import { files } from "./scenarios/files.ts";
import { overload } from "./scenarios/overload.ts";
import { workerCost } from "./scenarios/worker-cost.ts";
import { websocket } from "./scenarios/websocket.ts";
import { uploads } from "./scenarios/uploads.ts";
import { queue } from "./scenarios/queue.ts";
import { lanes } from "./scenarios/lanes.ts";
import { check } from "./scenarios/check.ts";
import { install } from "./scenarios/install.ts";
import { typescriptStart } from "./scenarios/typescript-start.ts";
import { entryCost } from "./scenarios/entry-cost.ts";
import { tracing } from "./scenarios/tracing.ts";
import { idle } from "./scenarios/idle.ts";

const argv = process.argv.slice(2);
const markdown = argv.includes("--markdown");
const chosen = argv.filter((a) => !a.startsWith("--"));
const durationSec = Number(process.env.BENCH_DURATION ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const soakSec = Number(process.env.BENCH_SOAK_SEC ?? 60);
const cores = availableParallelism();
const connections = 32;
const targets: string[] = [];
// Every peer burns the same amount of CPU per call: about 100 ms of this machine's idle core.
process.env.BURN_ITERATIONS ??= String(calibrate(100));

function target(description: string, met: boolean, figures: string): void {
  targets.push(`${met ? "met   " : "MISSED"}  ${description}: ${figures}`);
}
const context: BenchContext = { markdown, rounds, target };

/** A closed-loop run with the server's own CPU time per request. */
type Measured = Throughput & { cpuUsPerRequest: number };

/** One warmed-up closed-loop run on a path, with the server's own CPU time per request. */
async function measure(peer: Peer, path: string): Promise<Measured> {
  const url = `${peer.url}${path}`;
  await closedLoop({ url, connections, durationSec: 1 });
  const before = await peer.stats();
  const result = await closedLoop({ url, connections, durationSec });
  const after = await peer.stats();
  if (result.failures > 0) throw new Error(`${peer.name}: ${result.failures} failed requests on ${path}`);
  // CPU per request does not depend on how fast the load generator is on a shared machine.
  return { ...result, cpuUsPerRequest: ((after.cpuMs - before.cpuMs) * 1000) / result.total };
}

/** Closed-loop req/s of each peer on one path; the best of `rounds` runs, peers interleaved. */
async function throughput(specs: PeerSpec[], path: string): Promise<Map<string, Measured>> {
  const best = new Map<string, Measured>();
  for (let round = 0; round < rounds; round++) {
    for (const spec of specs) {
      await withPeer(spec, async (peer) => {
        const result = await measure(peer, path);
        const previous = best.get(spec.name);
        if (!previous || result.reqPerSec > previous.reqPerSec) best.set(spec.name, result);
      });
    }
  }
  return best;
}

/**
 * One row per peer: req/s against the baseline's, and its CPU per request against the baseline's
 * (the baseline's CPU ÷ this one's: above 1× is less CPU per request, what the goals are stated in).
 */
function throughputRows(results: Map<string, Measured>, baseline: string) {
  const base = results.get(baseline)!;
  return [...results].map(([name, r]) => ({
    server: name,
    "req/s": fmt.int(r.reqPerSec),
    "p50 ms": fmt.ms(r.p50Ms),
    "p99 ms": fmt.ms(r.p99Ms),
    "server CPU µs/req": r.cpuUsPerRequest.toFixed(1),
    [`req/s vs ${baseline}`]: fmt.ratio(r.reqPerSec / base.reqPerSec),
    [`CPU vs ${baseline}`]: fmt.ratio(cpuRatio(base, r)),
  }));
}

/** How many times less server CPU per request `r` takes than `base`. */
const cpuRatio = (base: Measured, r: Measured) => base.cpuUsPerRequest / r.cpuUsPerRequest;

const scenarios: Record<string, () => Promise<void>> = {
  async hello() {
    const results = await throughput([peers.rawHttp(), peers.rawHttpAsync(), peers.fastify(), peers.loopwise()], "/hello");
    printTable(`(a) GET /hello on the event loop, ${connections} connections, ${durationSec} s`, throughputRows(results, "node:http"), markdown);
    const ours = results.get("Loopwise")!;
    const raw = cpuRatio(results.get("node:http")!, ours);
    const fastify = cpuRatio(results.get("Fastify")!, ours);
    target("(a) loop-lane hello, server CPU per request ≥ 0.95× node:http's", raw >= 0.95, fmt.ratio(raw));
    target("(a) loop-lane hello, server CPU per request ≥ 1.1× Fastify's", fastify >= 1.1, fmt.ratio(fastify));
  },

  /** An order of 21 fields with 5 nested items through a response schema: Fastify's compiled serialiser against Loopwise's validation and writer. */
  async serialise() {
    const results = await throughput([peers.fastify(), peers.loopwise()], "/order");
    for (const [name, r] of await throughput([peers.loopwise("Loopwise, no response schema")], "/order-unchecked")) results.set(name, r);
    printTable(
      `(s) GET /order: 21 fields and 5 items through a response schema, ${connections} connections, ${durationSec} s`,
      throughputRows(results, "Fastify"),
      markdown,
    );
    const ratio = cpuRatio(results.get("Fastify")!, results.get("Loopwise")!);
    target("(s) response schema, server CPU per request ≥ 1.1× Fastify's", ratio >= 1.1, fmt.ratio(ratio));
  },

  /** What declared input costs: a small validated query against the same loop-lane hello, one process. */
  async validated() {
    const best = { hello: 0, validated: 0 };
    const cpu = { hello: Infinity, validated: Infinity };
    const rows: Row[] = [];
    await withPeer(peers.loopwise(), async (peer) => {
      const paths = { hello: "/hello", validated: "/validated?limit=10&q=abc" } as const;
      for (let round = 0; round < rounds; round++) {
        for (const key of ["hello", "validated"] as const) {
          const result = await measure(peer, paths[key]);
          best[key] = Math.max(best[key], result.reqPerSec);
          cpu[key] = Math.min(cpu[key], result.cpuUsPerRequest!);
        }
      }
      for (const key of ["hello", "validated"] as const) {
        rows.push({
          route: paths[key],
          "req/s": fmt.int(best[key]),
          "server CPU µs/req": cpu[key].toFixed(1),
          "vs /hello": fmt.ratio(best[key] / best.hello),
        });
      }
    });
    printTable(`(v) Loopwise loop lane, a Zod-validated query vs none, ${connections} connections, ${durationSec} s`, rows, markdown);
    const ratio = best.validated / best.hello;
    target("(v) validated query costs ≤ 15% of loop-lane hello", ratio >= 0.85, fmt.ratio(ratio));
  },

  /** What middleware costs on the loop-lane hello: none, one that only calls next(), and request id + CORS + compression. */
  async middleware() {
    const none = peers.loopwise("Loopwise, no middleware");
    const noop = { ...peers.loopwise("Loopwise, one no-op middleware"), env: { BENCH_MIDDLEWARE: "noop" } };
    const stack = { ...peers.loopwise("Loopwise, requestId + cors + compression"), env: { BENCH_MIDDLEWARE: "stack" } };
    const results = await throughput([none, noop, stack], "/hello");
    printTable(`(m) Middleware cost: GET /hello, ${connections} connections, ${durationSec} s`, throughputRows(results, none.name), markdown);
    // CPU per request, not req/s: on a shared machine the load generator's share varies more than this cost.
    const ratio = results.get(noop.name)!.cpuUsPerRequest! / results.get(none.name)!.cpuUsPerRequest!;
    target("(m) one no-op middleware costs ≤ 1.2× the server CPU per request of none", ratio <= 1.2, fmt.ratio(ratio));
  },

  async monitor() {
    const on = peers.loopwise("Loopwise, loop monitor on");
    const off = peers.loopwise("Loopwise, loop monitor off", ["--no-loop-monitor"]);
    const results = await throughput([on, off], "/hello");
    printTable(`Loop monitor overhead: GET /hello, ${connections} connections, ${durationSec} s`, throughputRows(results, off.name), markdown);
    const ratio = results.get(on.name)!.reqPerSec / results.get(off.name)!.reqPerSec;
    target("loop monitor on ≥ 0.97× off", ratio >= 0.97, fmt.ratio(ratio));
  },

  async worker() {
    const specs = [
      peers.fastifyPiscina(),
      peers.fastifyPiscina(cores),
      peers.loopwise("Loopwise (default pool)"),
      peers.loopwise(`Loopwise (pool ${cores})`, ["--pool-size", String(cores)]),
    ];
    const results = await throughput(specs, "/trivial");
    const piscinaBest = Math.max(results.get(specs[0]!.name)!.reqPerSec, results.get(specs[1]!.name)!.reqPerSec);
    const bestName = results.get(specs[0]!.name)!.reqPerSec === piscinaBest ? specs[0]!.name : specs[1]!.name;
    printTable(`(b) GET /trivial on worker threads, ${connections} connections, ${durationSec} s`, throughputRows(results, bestName), markdown);
    const ratio = Math.max(results.get(specs[2]!.name)!.reqPerSec, results.get(specs[3]!.name)!.reqPerSec) / piscinaBest;
    target("(b) worker-lane trivial req/s ≥ 2× Fastify + Piscina's best", ratio >= 2, fmt.ratio(ratio));
    const leastCpu = (names: string[]) => names.map((name) => results.get(name)!).reduce((a, b) => (a.cpuUsPerRequest <= b.cpuUsPerRequest ? a : b));
    const cpu = cpuRatio(leastCpu([specs[0]!.name, specs[1]!.name]), leastCpu([specs[2]!.name, specs[3]!.name]));
    target("(b) worker-lane trivial, server CPU per request ≥ 2.5× Fastify + Piscina's least", cpu >= 2.5, fmt.ratio(cpu));
  },

  async burn() {
    const specs = [
      peers.fastify(),
      peers.fastifyPiscina(),
      { ...peers.loopwise(), args: peers.loopwise().args.filter((a) => a !== "--no-access-log") },
    ];
    const probeMs = Math.max(3, durationSec) * 1000;
    const rows: Row[] = [];
    const p99s = new Map<string, number>();
    for (const spec of specs) {
      await withPeer(spec, async (peer) => {
        await closedLoop({ url: `${peer.url}/hello`, connections: 4, durationSec: 1 });
        await peer.stats(true);
        const burning = closedLoop({ url: `${peer.url}/burn`, connections: 4, durationSec: probeMs / 1000 + 1 });
        await new Promise((resolve) => setTimeout(resolve, 500));
        const probe = await openLoopProbe(`${peer.url}/hello`, 10, probeMs);
        const burn = await burning;
        const stats = await peer.stats();
        // Loopwise's access log says how long each burn waited for a worker.
        const queued = peer.stdoutLines
          .map((line) => JSON.parse(line) as { path: string; queued_ms: number | null })
          .filter((line) => line.path === "/burn" && line.queued_ms !== null)
          .map((line) => line.queued_ms!)
          .sort((a, b) => a - b);
        p99s.set(spec.name, probe.p99Ms);
        rows.push({
          server: spec.name === "Fastify" ? "Fastify (burn on the loop)" : spec.name,
          "hello p50 ms": fmt.ms(probe.p50Ms),
          "hello p99 ms": fmt.ms(probe.p99Ms),
          "hello max ms": fmt.ms(probe.maxMs),
          "burns/s": burn.reqPerSec.toFixed(1),
          "server loop delay p99 ms": fmt.ms(stats.loopDelayP99Ms),
          "burn queue wait p99 ms": queued.length ? fmt.ms(percentile(queued, 99)) : "–",
        });
      });
    }
    printTable(`(c) GET /hello every 10 ms (open loop, ${probeMs / 1000} s) while 4 clients call a 100 ms CPU burn`, rows, markdown);
    const ours = p99s.get("Loopwise")!;
    const theirs = p99s.get(specs[1]!.name)!;
    target("(c) hello p99 during burns ≤ Fastify + Piscina's", ours <= theirs, `${fmt.ms(ours)} ms vs ${fmt.ms(theirs)} ms`);
  },

  async websocket() {
    await websocket(context, durationSec);
  },
  async flood() {
    const floodSize = 5000;
    // node:http flooded with hellos shows what accepting thousands of connections at once costs
    // any Node server on this machine; Loopwise is flooded at a slow worker route it must shed.
    const cases = [
      { spec: peers.rawHttp(), path: "/hello", route: "/hello (nothing to shed)" },
      { spec: peers.loopwise(), path: "/slow", route: "/slow: 50 ms on a worker, queue 1024" },
    ];
    const rows: Row[] = [];
    const p50s: number[] = [];
    const p99s: number[] = [];
    for (const { spec, path, route } of cases) {
      await withPeer(spec, async (peer) => {
        // The probe keeps its connections open, as a real client would; connections opened in
        // the middle of a connection flood would measure the kernel's SYN backlog, not the server.
        const probeAgent = new Agent({ keepAlive: true, maxSockets: 64 });
        await Promise.all(Array.from({ length: 64 }, () => fetchVia(probeAgent, `${peer.url}/hello`)));
        const idle = await openLoopProbe(`${peer.url}/hello`, 10, 2000, probeAgent);
        const before = await peer.stats(true);
        const flood = floodFrom(`${peer.url}${path}`, floodSize);
        const during = await openLoopProbe(`${peer.url}/hello`, 10, 5000, probeAgent);
        const { outcomes, seconds } = await flood;
        const after = await peer.stats();
        probeAgent.destroy();
        p50s.push(during.p50Ms);
        p99s.push(during.p99Ms);
        const answered = (outcomes["200"] ?? 0) + (outcomes["503"] ?? 0);
        if (spec.name === "Loopwise") target("flood: every request answered 200 or 503", answered === floodSize, JSON.stringify(outcomes));
        rows.push({
          server: spec.name,
          "flooded route": route,
          answers: Object.entries(outcomes)
            .sort()
            .map(([status, n]) => `${n}×${status}`)
            .join(" "),
          "answered in s": seconds.toFixed(1),
          "hello p50 ms (idle → flood)": `${fmt.ms(idle.p50Ms)} → ${fmt.ms(during.p50Ms)}`,
          "hello p99 ms (idle → flood)": `${fmt.ms(idle.p99Ms)} → ${fmt.ms(during.p99Ms)}`,
          "loop delay max ms": fmt.ms(after.loopDelayMaxMs),
          "RSS MB": `${before.rssMb.toFixed(0)} → ${after.rssMb.toFixed(0)}`,
        });
      });
    }
    printTable(`Flood: ${floodSize} requests at once, each on its own connection; GET /hello every 10 ms on open connections`, rows, markdown);
    // The p99 is set by the burst of 5000 new connections, which node:http pays too; the median
    // says whether hello kept being answered at once while the worker route was shedding.
    target(
      "flood: hello p50 stays under 5 ms",
      p50s[1]! < 5,
      `${fmt.ms(p50s[1]!)} ms (p99 ${fmt.ms(p99s[1]!)} ms; node:http's p99 under its own flood ${fmt.ms(p99s[0]!)} ms)`,
    );
  },

  blocking: () => blocking(context),
  overload: () => overload(context),
  "worker-cost": () => workerCost(context),
  idle: () => idle(context),
  uploads: () => uploads(context),
  files: () => files(context),
  lanes: () => lanes(context),
  queue: () => queue(context, durationSec),
  check: () => check(context),
  install: () => install(context),
  "ts-start": () => typescriptStart(context),
  "entry-cost": () => entryCost(context),
  tracing: () => tracing(context),

  async soak() {
    const requests = [
      { method: "GET" as const, path: "/hello" },
      { method: "GET" as const, path: "/trivial" },
      {
        method: "POST" as const,
        path: "/echo",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "soak", tags: ["a", "b"], n: 42 }),
      },
      { method: "GET" as const, path: "/items/42?q=x" },
      { method: "GET" as const, path: "/burn-short" },
    ];
    await withPeer(peers.loopwise(), async (peer) => {
      await closedLoop({ url: peer.url, connections: 16, durationSec: 5, requests });
      const start = await peer.stats(true);
      const result = await closedLoop({ url: peer.url, connections: 16, durationSec: soakSec, requests });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const end = await peer.stats();
      const growth = end.rssMb - start.rssMb;
      printTable(
        `Soak: ${soakSec} s of mixed load (hello, worker trivial, JSON echo, path+query, 2 ms worker burn), 16 connections`,
        [
          {
            requests: fmt.int(result.total),
            "req/s": fmt.int(result.reqPerSec),
            "p99 ms": fmt.ms(result.p99Ms),
            errors: String(result.failures),
            "RSS start MB": start.rssMb.toFixed(0),
            "RSS end MB": end.rssMb.toFixed(0),
            "loop delay p99 ms": fmt.ms(end.loopDelayP99Ms),
          },
        ],
        markdown,
      );
      target("soak: no errors", result.failures === 0, String(result.failures));
      target("soak: RSS growth under 20%", growth < start.rssMb * 0.2, `${growth >= 0 ? "+" : ""}${growth.toFixed(1)} MB`);
    });
  },
};

const defaults = ["hello", "serialise", "monitor", "validated", "middleware", "worker", "worker-cost", "idle", "burn", "flood"];
const names = chosen.length ? chosen : defaults;
for (const name of names) {
  if (!scenarios[name]) {
    console.error(`unknown scenario "${name}"; choose from ${Object.keys(scenarios).join(", ")}`);
    process.exit(2);
  }
}
console.log(
  `Loopwise bench — Node ${process.version}, ${cores} cores; each peer in its own process on 127.0.0.1; ratios matter, absolute figures are noise on shared machines.`,
);
for (const name of names) await scenarios[name]!();
console.log(`\nTargets\n${targets.join("\n")}`);
