// One measurement of `entry-cost`, in a process of its own: starts COUNT worker threads that each
// import SPECIFIERS (none: an empty worker, the floor) and says, as one JSON line, the CPU the
// process spent until all had imported them and each worker's heap then (after a collection),
// per worker.
//   node --expose-gc bench/lib/entry-cost-child.mjs COUNT [SPECIFIER...]
import { Worker } from "node:worker_threads";

const [countArg, ...specifiers] = process.argv.slice(2);
const count = Number(countArg);
const body = `Promise.all(${JSON.stringify(specifiers)}.map((s) => import(s))).then(() => {
  globalThis.gc?.();
  require("node:worker_threads").parentPort.postMessage(process.memoryUsage().heapUsed);
});`;
await new Promise((resolve) => setTimeout(resolve, 200));
const before = process.cpuUsage();
const workers = [];
let heap = 0;
for (let i = 0; i < count; i++) {
  const worker = new Worker(body, { eval: true });
  workers.push(worker);
  heap += await new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}
const cpu = process.cpuUsage(before);
console.log(JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 / count, heapMb: heap / count / 2 ** 20 }));
await Promise.all(workers.map((w) => w.terminate()));
