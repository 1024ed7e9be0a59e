// The loads the simulator plays, each a list of arrivals in virtual time.
import type { Arrival } from "./world.ts";

export interface ScenarioOptions {
  concurrency: number;
  sleepMs: number;
  cpuMs: number;
}

/** A never-seen quick route, 200 ms after the burst: it must not wait behind work known to be slow. */
const quickRequest = (at: number): Arrival => ({ at, work: { route: "/sync/hello", cpuMs: 0.05 }, name: "hello" });

export const scenarios: Record<string, { describe: string; arrivals: (o: ScenarioOptions) => Arrival[] }> = {
  sleepers: {
    describe: "N blocking requests of S ms at once on a cold pool, a never-seen quick request 200 ms later (the seed's Test 1 at scale)",
    arrivals: ({ concurrency, sleepMs }) => [
      ...Array.from({ length: concurrency }, () => ({ at: 0, work: { route: "/sync/sleep", sleepMs } })),
      quickRequest(200),
    ],
  },
  "cpu-flood": {
    describe: "N CPU-bound requests of C ms at once, a quick request 200 ms later: the pool must not grow for them",
    arrivals: ({ concurrency, cpuMs }) => [
      ...Array.from({ length: concurrency }, () => ({ at: 0, work: { route: "/sync/burn", cpuMs } })),
      quickRequest(200),
    ],
  },
  mixed: {
    describe: "N/2 blocking and N/2 CPU-bound requests at once, then a quick request every 50 ms for 2 s",
    arrivals: ({ concurrency, sleepMs, cpuMs }) => [
      ...Array.from({ length: concurrency }, (_, i) => ({
        at: 0,
        work: i % 2 === 0 ? { route: "/sync/sleep", sleepMs } : { route: "/sync/burn", cpuMs },
      })),
      ...Array.from({ length: 40 }, (_, i) => ({ ...quickRequest(200 + i * 50), name: i === 0 ? "hello" : undefined })),
    ],
  },
};
