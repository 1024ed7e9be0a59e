// Each peer reports its own event-loop delay and memory, so the bench can show what the server
// itself went through, not only what the client saw.
import { monitorEventLoopDelay } from "node:perf_hooks";

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();

export interface ServerStats {
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  rssMb: number;
  /** CPU time the whole process has used (all threads), ms. */
  cpuMs: number;
}

/** Figures since the last reset; `reset` starts a new window. */
export function serverStats(reset: boolean): ServerStats {
  const stats = {
    loopDelayP99Ms: delay.percentile(99) / 1e6,
    loopDelayMaxMs: delay.max / 1e6,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  };
  if (reset) delay.reset();
  return stats;
}

/** The line the bench waits for before it starts loading a peer. */
export function announce(url: string): void {
  process.stderr.write(`${JSON.stringify({ event: "listening", url })}\n`);
}
