// What a worker costs on the machines this project is developed on (2 cores, Node 20, the
// seed app as TypeScript compiled once by the main thread, the package bundled), measured with
// `npm run simulate -- --calibrate` (it runs bench/lib/worker-cost-child.mjs: 16 workers started
// at once, their CPU and memory divided by 16; and one worker alone, for the wall time beyond its
// CPU). Another machine gets its own figures from the same command.
import type { MachineModel } from "./world.ts";

export const measuredHere: Omit<MachineModel, "cores"> = {
  // 16 workers: 988 ms of CPU (62 each, some of it the main thread's share of starting them);
  // earlier measurements of the bundled package: 46-48 ms per growth worker.
  workerStartCpuMs: 55,
  // One worker alone: ready 85 ms after the start, with 70 ms of CPU (compiling the app included).
  workerStartWallMs: 15,
  // 16 workers: 172.75 MB of RSS, 10.8 MB each.
  workerMb: 11,
  // The seed app with its core of 4: 148-158 MB of RSS idle, less the 4 workers.
  processMb: 105,
  hopMs: 0.1,
};
