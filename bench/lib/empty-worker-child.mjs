// The floor under `worker-cost`, in a process of its own: SIZE empty worker threads (each kept
// alive, as a pool worker is), started at once; says, as worker-cost-child.mjs does, how long
// they took, the CPU the process spent and how much it grew.
//   node --expose-gc bench/lib/empty-worker-child.mjs SIZE
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";

const size = Number(process.argv[2]);
const rssMb = () => process.memoryUsage.rss() / 2 ** 20;
globalThis.gc?.();
await new Promise((resolve) => setTimeout(resolve, 200));
const before = { rss: rssMb(), cpu: process.cpuUsage(), at: performance.now() };
// An ES module, as the pool's workers are: the ESM loader is part of every worker's start.
const body = `import("node:worker_threads").then(({ parentPort }) => { parentPort.on("message", () => {}); parentPort.postMessage("ready"); });`;
const workers = Array.from({ length: size }, () => new Worker(body, { eval: true }));
await Promise.all(workers.map((worker) => new Promise((resolve, reject) => worker.once("message", resolve).once("error", reject))));
const readyMs = performance.now() - before.at;
const cpu = process.cpuUsage(before.cpu);
await new Promise((resolve) => setTimeout(resolve, 300));
const grownMb = rssMb() - before.rss;
console.log(JSON.stringify({ loader: "none", readyMs, cpuMs: (cpu.user + cpu.system) / 1000, grownMb }));
await Promise.all(workers.map((worker) => worker.terminate()));
