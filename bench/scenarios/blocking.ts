// Scenario `blocking`: the seed's Test 1 at scale, beside FastAPI. N clients call a plain handler
// that sleeps 1 s (sleepSync / time.sleep) at once; 100 ms later /sync/hello and /async/hello
// are sent. How long until the last sleeper answered, what the hellos waited, what it cost in
// memory and threads. Loopwise runs the seed app through its CLI, FastAPI the same app on
// uvicorn, both with their defaults, each in a fresh process for every crowd and round; Loopwise
// runs once more with all 40 workers started up front.
import { execFileSync } from "node:child_process";
import { Agent } from "node:http";
import type { BenchContext } from "../lib/context.ts";
import { timedGet } from "../lib/load.ts";
import { debianPython, peers, withPeer, type Peer, type PeerSpec } from "../lib/peer.ts";
import { watchProcess } from "../lib/proc.ts";
import { fmt, printTable, type Row } from "../lib/table.ts";

const pythonVersions = `
import platform, fastapi, starlette, uvicorn, importlib.metadata as m
print(f"FastAPI {fastapi.__version__}, Starlette {starlette.__version__}, uvicorn {uvicorn.__version__}, anyio {m.version('anyio')}, Python {platform.python_version()}")`;
const sleepMs = 1000;
/** BENCH_BLOCKING_CROWDS=40 for a quicker run. */
const crowds = (process.env.BENCH_BLOCKING_CROWDS ?? "40,200").split(",").map(Number);
const helloAfterMs = 100;
/** Bounds every request: 200 sleepers on a pool of 4 take 50 s. */
const patienceMs = 90_000;

interface BlockingRun {
  sleepersOk: number;
  lastSleeperMs: number;
  syncHelloMs: number;
  asyncHelloMs: number;
  /** A hello that got no 200 (shown, never hidden in a latency). */
  helloFailed: boolean;
  idleRssMb: number;
  peakRssMb: number;
  peakThreads: number;
}

async function blockingRun(peer: Peer, sleepers: number): Promise<BlockingRun> {
  const agent = new Agent({ keepAlive: false });
  // /async/hello a few times first, so what is measured is waiting, not a first call's compile.
  // /sync/hello is left cold: a plain route never seen before must not wait behind sleepers
  // known to be slow (Loopwise lets it go ahead; FastAPI's threads take requests in order).
  for (let i = 0; i < 3; i++) await timedGet(agent, `${peer.url}/async/hello`, patienceMs);
  const watch = watchProcess(peer.pid);
  const start = performance.now();
  const sleeping = Array.from({ length: sleepers }, () => timedGet(agent, `${peer.url}/sync/sleep`, patienceMs));
  await new Promise((resolve) => setTimeout(resolve, helloAfterMs));
  const hellos = await Promise.all([timedGet(agent, `${peer.url}/sync/hello`, patienceMs), timedGet(agent, `${peer.url}/async/hello`, patienceMs)]);
  const answers = await Promise.all(sleeping);
  const memory = watch.stop();
  agent.destroy();
  return {
    sleepersOk: answers.filter((a) => a.status === 200).length,
    lastSleeperMs: Math.max(...answers.map((a) => a.at)) - start,
    syncHelloMs: hellos[0].ms,
    asyncHelloMs: hellos[1].ms,
    helloFailed: hellos.some((h) => h.status !== 200),
    idleRssMb: memory.idleRssMb,
    peakRssMb: memory.peakRssMb,
    peakThreads: memory.peakThreads,
  };
}

/** FastAPI + uvicorn when Debian's packages are here or can be installed; else a note says why not. */
function fastapiAvailable(): boolean {
  try {
    execFileSync("bash", ["scripts/ensure-fastapi.sh"], { stdio: ["ignore", "inherit", "inherit"], timeout: 600_000 });
    const versions = execFileSync(debianPython, ["-c", pythonVersions], { encoding: "utf8" }).trim();
    console.log(`
FastAPI side: ${versions}, Debian's packages, uvicorn's defaults (asyncio, h11).`);
    return true;
  } catch {
    console.log(
      "\nNote: FastAPI + uvicorn could not be installed (scripts/ensure-fastapi.sh: Debian's python3-fastapi and python3-uvicorn); the blocking scenario runs Loopwise alone.",
    );
    return false;
  }
}

/** The round that kept its clients waiting least: the last sleeper's time plus both hellos'. */
function waitedLess(a: BlockingRun, b: BlockingRun): boolean {
  return a.lastSleeperMs + a.syncHelloMs + a.asyncHelloMs < b.lastSleeperMs + b.syncHelloMs + b.asyncHelloMs;
}

function row(name: string, sleepers: number, run: BlockingRun): Row {
  return {
    server: name,
    "1 s sleepers": String(sleepers),
    "answered 200": `${run.sleepersOk}/${sleepers}`,
    "last sleeper answered": `${(run.lastSleeperMs / 1000).toFixed(2)} s (${(run.lastSleeperMs / sleepMs).toFixed(2)}×)`,
    "/sync/hello ms": `${fmt.ms(run.syncHelloMs)}${run.helloFailed ? " (failed)" : ""}`,
    "/async/hello ms": fmt.ms(run.asyncHelloMs),
    "threads (peak)": String(run.peakThreads),
    "RSS MB (idle → peak)": `${run.idleRssMb.toFixed(0)} → ${run.peakRssMb.toFixed(0)}`,
  };
}

export async function blocking(ctx: BenchContext): Promise<void> {
  // Beside the defaults, the other end of the trade: every worker started up front, so none is
  // started while the sleepers wait, for its memory from the start.
  const specs: PeerSpec[] = [peers.loopwiseSeed(sleepMs), peers.loopwiseSeed(sleepMs, "Loopwise, --pool-size 40", ["--pool-size", "40"])];
  if (fastapiAvailable()) specs.push(peers.fastapiSeed(sleepMs));
  const best = new Map<string, BlockingRun>();
  for (let round = 0; round < ctx.rounds; round++) {
    for (const sleepers of crowds) {
      for (const spec of specs) {
        const run = await withPeer(spec, (peer) => blockingRun(peer, sleepers));
        const key = `${spec.name}/${sleepers}`;
        const previous = best.get(key);
        if (!previous || waitedLess(run, previous)) best.set(key, run);
      }
    }
  }
  const rows = crowds.flatMap((sleepers) => specs.map((spec) => row(spec.name, sleepers, best.get(`${spec.name}/${sleepers}`)!)));
  printTable(
    `Blocking plain handlers: N clients at once on a 1 s sleep, /sync/hello and /async/hello sent ${helloAfterMs} ms later; default settings, best of ${ctx.rounds} rounds`,
    rows,
    ctx.markdown,
  );
  const ours = best.get(`Loopwise/${crowds[0]}`)!;
  ctx.target(
    `(blocking) last of ${crowds[0]} sleepers within 1.5× the sleep, on a cold default pool`,
    ours.sleepersOk === crowds[0] && ours.lastSleeperMs <= 1.5 * sleepMs,
    `${(ours.lastSleeperMs / sleepMs).toFixed(2)}×`,
  );
  ctx.target(
    `(blocking) the seed app's RSS ≤ 100 MB idle and ≤ 480 MB with ${crowds[0]} blocked`,
    ours.idleRssMb <= 100 && ours.peakRssMb <= 480,
    `${ours.idleRssMb.toFixed(0)} → ${ours.peakRssMb.toFixed(0)} MB`,
  );
  ctx.target(
    `(blocking) /sync/hello behind ${crowds[0]} sleepers within 100 ms`,
    !ours.helloFailed && ours.syncHelloMs <= 100,
    `${fmt.ms(ours.syncHelloMs)} ms (/async/hello ${fmt.ms(ours.asyncHelloMs)} ms)`,
  );
}
