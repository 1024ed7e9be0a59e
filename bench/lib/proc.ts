// A server's memory and threads as the kernel sees them, read from /proc: the same figure for a
// Node peer and a Python one, and readable while the server is too busy to answer a request.
import { readFileSync } from "node:fs";

export interface ProcessSample {
  rssMb: number;
  threads: number;
}

export function sampleProcess(pid: number): ProcessSample {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN);
  return { rssMb: field("VmRSS") / 1024, threads: field("Threads") };
}

export interface ProcessWatch {
  /** Stops sampling; the figures seen from start to now. */
  stop(): { idleRssMb: number; peakRssMb: number; peakThreads: number };
}

/** Samples `pid` every `everyMs` until stopped, keeping the first RSS and the peaks. */
export function watchProcess(pid: number, everyMs = 100): ProcessWatch {
  const idle = sampleProcess(pid);
  let peakRssMb = idle.rssMb;
  let peakThreads = idle.threads;
  const take = () => {
    try {
      const now = sampleProcess(pid);
      peakRssMb = Math.max(peakRssMb, now.rssMb);
      peakThreads = Math.max(peakThreads, now.threads);
    } catch {
      // The process is gone; the peaks so far stand.
    }
  };
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { idleRssMb: idle.rssMb, peakRssMb, peakThreads };
    },
  };
}
