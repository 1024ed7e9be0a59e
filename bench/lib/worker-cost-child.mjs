// One measurement of `worker-cost`, in a process of its own: imports an app the way the CLI does
// (tsx registered in this thread for TypeScript), then starts a pool of SIZE workers and says, as
// one JSON line, how long they took, the CPU they used and how much the process grew.
// Plain JavaScript, so that no loader is in this process's flags for the workers to inherit.
//   node bench/lib/worker-cost-child.mjs MODULE SIZE [LOADER,LOADER...]
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { hostKey } from "../../dist/pool/identity.js";
import { importModule } from "../../dist/pool/module-loader.js";
import { WorkerPool } from "../../dist/pool/pool.js";

const [modulePath, sizeArg, loaderArg] = process.argv.slice(2);
const moduleUrl = pathToFileURL(modulePath).href;
const size = Number(sizeArg);
const { app } = await importModule(moduleUrl);
const signature = app[hostKey]().signature();
const rssMb = () => process.memoryUsage.rss() / 2 ** 20;
// Settle what importing the app left behind, so the growth measured is the workers'.
globalThis.gc?.();
await new Promise((resolve) => setTimeout(resolve, 200));
const before = { rss: rssMb(), cpu: process.cpuUsage(), at: performance.now() };
const pool = new WorkerPool({ size, maxSize: size, moduleUrl, exportName: "app", signature, loaders: loaderArg ? loaderArg.split(",") : undefined });
await pool.start();
const readyMs = performance.now() - before.at;
const cpu = process.cpuUsage(before.cpu);
await new Promise((resolve) => setTimeout(resolve, 300));
const grownMb = rssMb() - before.rss;
console.log(JSON.stringify({ loader: pool.moduleLoader, readyMs, cpuMs: (cpu.user + cpu.system) / 1000, grownMb }));
await pool.terminate();
