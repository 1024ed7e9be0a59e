// Scenario `queue`: what the queue lane costs and what worker processes give, on this machine. One
// server with --redis and 1, 2 or 4 `loopwise worker` processes, all on one Redis.
//   (a) latency: the same trivial plain handler on the worker lane and on the queue lane, probed
//       open-loop (a request every 5 ms, timed from when it was due), with one worker process;
//   (b) throughput: closed-loop req/s on a trivial queue-lane route and on a 5 ms CPU one, with
//       1, 2 and 4 worker processes (each with a pool of 2 threads and --concurrency 16).
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { BenchContext } from "../lib/context.ts";
import { closedLoop, openLoopProbe, type ProbeResult, type Throughput } from "../lib/load.ts";
import { withPeer, type Peer, type PeerSpec } from "../lib/peer.ts";
import { startRedis } from "../lib/redis.ts";
import { fmt, printTable, type Row } from "../lib/table.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = `${root}dist/cli/main.js`;
const app = "bench/peers/queue-app.ts:app";

interface WorkerProcess {
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startWorker(redisUrl: string): Promise<WorkerProcess> {
  const args = [cli, "worker", app, "--redis", redisUrl, "--log-format", "json", "--no-access-log", "--pool-size", "2", "--concurrency", "16"];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("a worker process did not start")), 60_000);
    createInterface({ input: child.stderr! }).on("line", (line) => {
      if (line.includes('"event":"consuming"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => reject(new Error("a worker process exited before taking jobs")));
  });
  return {
    child,
    async stop() {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Starts or stops worker processes until `count` run. */
async function scaleTo(workers: WorkerProcess[], count: number, redisUrl: string): Promise<void> {
  while (workers.length > count) await workers.pop()!.stop();
  const more = await Promise.all(Array.from({ length: count - workers.length }, () => startWorker(redisUrl)));
  workers.push(...more);
}

async function bestOf(rounds: number, url: string, durationSec: number): Promise<Throughput> {
  let best: Throughput | undefined;
  for (let round = 0; round < rounds; round++) {
    await closedLoop({ url, connections: 32, durationSec: 1 });
    const result = await closedLoop({ url, connections: 32, durationSec });
    if (!best || result.reqPerSec > best.reqPerSec) best = result;
  }
  return best!;
}

export async function queue(context: BenchContext, durationSec: number): Promise<void> {
  const { markdown, rounds, target } = context;
  const redis = await startRedis();
  const workers: WorkerProcess[] = [];
  const spec: PeerSpec = {
    name: "Loopwise",
    args: [cli, "run", app, "--port", "0", "--log-format", "json", "--no-access-log", "--redis", redis.url],
  };
  try {
    await withPeer(spec, async (peer: Peer) => {
      await scaleTo(workers, 1, redis.url);
      // Warm both paths (first compile, connections) before timing them.
      await closedLoop({ url: `${peer.url}/trivial`, connections: 8, durationSec: 1 });
      await closedLoop({ url: `${peer.url}/queue/trivial`, connections: 8, durationSec: 1 });
      const probes = new Map<string, ProbeResult>();
      for (const path of ["/trivial", "/queue/trivial"]) probes.set(path, await openLoopProbe(`${peer.url}${path}`, 5, durationSec * 1000));
      const worker = probes.get("/trivial")!;
      const queued = probes.get("/queue/trivial")!;
      const latencyRows: Row[] = [
        {
          lane: "worker (a thread of the server)",
          "p50 ms": fmt.ms(worker.p50Ms),
          "p99 ms": fmt.ms(worker.p99Ms),
          "max ms": fmt.ms(worker.maxMs),
          failures: String(worker.failures),
        },
        {
          lane: "queue (1 worker process)",
          "p50 ms": fmt.ms(queued.p50Ms),
          "p99 ms": fmt.ms(queued.p99Ms),
          "max ms": fmt.ms(queued.maxMs),
          failures: String(queued.failures),
        },
        {
          lane: "added by the queue",
          "p50 ms": fmt.ms(queued.p50Ms - worker.p50Ms),
          "p99 ms": fmt.ms(queued.p99Ms - worker.p99Ms),
          "max ms": "–",
          failures: "–",
        },
      ];
      printTable(`(a) GET a trivial plain handler every 5 ms (open loop, ${durationSec} s): worker lane vs queue lane`, latencyRows, markdown);
      target("queue: every probe answered", worker.failures + queued.failures === 0, `${worker.failures + queued.failures} failures`);

      const lane = await bestOf(rounds, `${peer.url}/trivial`, durationSec);
      const rows: Row[] = [
        {
          setup: "worker lane, in the server",
          "trivial req/s": fmt.int(lane.reqPerSec),
          "trivial p99 ms": fmt.ms(lane.p99Ms),
          "5 ms CPU req/s": "–",
          "5 ms CPU p99 ms": "–",
          failures: String(lane.failures),
        },
      ];
      for (const count of [1, 2, 4]) {
        await scaleTo(workers, count, redis.url);
        const trivial = await bestOf(rounds, `${peer.url}/queue/trivial`, durationSec);
        const burn = await bestOf(rounds, `${peer.url}/queue/burn`, durationSec);
        rows.push({
          setup: `queue lane, ${count} worker process${count === 1 ? "" : "es"}`,
          "trivial req/s": fmt.int(trivial.reqPerSec),
          "trivial p99 ms": fmt.ms(trivial.p99Ms),
          "5 ms CPU req/s": fmt.int(burn.reqPerSec),
          "5 ms CPU p99 ms": fmt.ms(burn.p99Ms),
          failures: String(trivial.failures + burn.failures),
        });
      }
      printTable("(b) Closed loop, 32 connections: throughput by number of worker processes (2 threads, --concurrency 16 each)", rows, markdown);
    });
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await redis.stop();
  }
}
