// Are the busy workers blocked (sleeping, waiting on a sync driver) or computing? Growing the
// pool helps the first and only costs memory and latency for the second.
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";

/** The process's CPU use over an interval, as a share of all cores. */
export class CpuMeter {
  readonly cores = availableParallelism();
  private lastUsage = process.cpuUsage();
  private lastAt = performance.now();

  /** Starts a new interval. */
  reset(): void {
    this.lastUsage = process.cpuUsage();
    this.lastAt = performance.now();
  }

  /** The share of all cores (0–1) the process used since the last reading or reset; starts the next interval. */
  read(): number {
    const usage = process.cpuUsage();
    const at = performance.now();
    const cpuMs = (usage.user - this.lastUsage.user + usage.system - this.lastUsage.system) / 1000;
    const wallMs = at - this.lastAt;
    this.lastUsage = usage;
    this.lastAt = at;
    return wallMs > 0 ? cpuMs / wallMs / this.cores : 0;
  }
}

let procReadable = process.platform === "linux";

/**
 * Threads of this process other than the main one that are running or waiting for a core
 * (state R in /proc/self/task/N/stat), or undefined where that cannot be read. Process CPU alone
 * cannot tell computing workers starved by other processes (or by a container's CPU quota)
 * from blocked ones, since both use little CPU; but a computing thread stays runnable, while
 * one that sleeps or waits on I/O does not. One reading costs well under a millisecond.
 */
export function runnableThreads(): number | undefined {
  if (!procReadable) return undefined;
  let tids: string[];
  try {
    tids = readdirSync("/proc/self/task");
  } catch {
    procReadable = false;
    return undefined;
  }
  let runnable = 0;
  for (const tid of tids) {
    if (tid === String(process.pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, "latin1");
    } catch {
      continue; // the thread ended meanwhile
    }
    // "tid (name) S ...": the name may hold spaces and parentheses; the state follows the last ")".
    if (stat.charCodeAt(stat.lastIndexOf(")") + 2) === 82 /* R */) runnable++;
  }
  return runnable;
}

/**
 * Whether the busy workers look blocked rather than computing: the process used less than half
 * the cores over the last interval and, where it can be seen, fewer threads than half the cores
 * are runnable. CPU-bound work fails both, so it never grows the pool past its core.
 */
export function workersLookBlocked(cpuShare: number, cores: number): boolean {
  if (cpuShare >= 0.5) return false;
  const runnable = runnableThreads();
  return runnable === undefined || runnable < cores / 2;
}
