// Are the busy workers blocked (sleeping, waiting on a sync driver) or computing? Growing the
// pool helps the first and only costs memory and latency for the second.
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import type { WorkerState } from "./worker-state.js";

/** A busy worker and the id of the task it holds first. */
export type BusyWorker = [worker: WorkerState, taskId: number];

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

/** A thread of this process as /proc shows it: its state letter ("R": running or waiting for a core) and the ns it spent so (schedstat), or undefined. */
function readThread(tid: number): { state: string; runnableNs: number | undefined } | undefined {
  if (!procReadable) return undefined;
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "latin1");
    // "tid (name) S ...": the name may hold spaces and parentheses; the state follows the last ")".
    const state = stat.charAt(stat.lastIndexOf(")") + 2);
    let runnableNs: number | undefined;
    try {
      // "ns on a core, ns waiting for one, timeslices"
      const [running, waiting] = readFileSync(`/proc/self/task/${tid}/schedstat`, "latin1").split(" ");
      runnableNs = Number(running) + Number(waiting);
    } catch {
      runnableNs = undefined; // a kernel without scheduler statistics
    }
    return { state, runnableNs };
  } catch {
    return undefined; // the thread ended meanwhile
  }
}

export interface BusyWorkersLook {
  /** Workers inside a task whose thread is not runnable, and was not for most of the time since it was last seen in it. */
  blocked: number;
  /** Workers inside a task whose thread is running or waiting for a core, or was for most of that time. */
  computing: number;
  /** Workers seen inside their task for the first time, not runnable: judged on the next look. */
  unknown: number;
}

interface Sighting {
  task: number;
  at: number;
  runnableNs: number | undefined;
  state: string;
}

/**
 * What the workers inside a task are doing, from their own threads, where they can be seen.
 * Direct evidence, unlike the process's CPU: a worker that sleeps in its handler is blocked, one
 * that computes stays runnable even when starved by other processes. One glance is not enough
 * to call a worker blocked: a computing thread leaves the runnable state for a moment (a page
 * fault, its garbage collector), so it must also have been runnable for less than a quarter of
 * the time since it was last seen in the same task. Workers holding a task they have not started (or
 * have finished, unreported) are not counted.
 */
export class WorkerThreadsMeter {
  private sightings = new Map<WorkerState, Sighting>();

  /** The look now; undefined where the workers' threads cannot be seen. */
  look(busy: readonly BusyWorker[]): BusyWorkersLook | undefined {
    const look = { blocked: 0, computing: 0, unknown: 0 };
    const at = performance.now();
    const sightings = new Map<WorkerState, Sighting>();
    for (const [worker, taskId] of busy) {
      if (!worker.inTask(taskId)) continue;
      const thread = worker.tid === undefined ? undefined : readThread(worker.tid);
      if (thread === undefined) return undefined;
      const now: Sighting = { task: taskId, at, runnableNs: thread.runnableNs, state: thread.state };
      sightings.set(worker, now);
      const before = this.sightings.get(worker);
      if (now.state === "R") look.computing++;
      else if (before?.task !== now.task) look.unknown++;
      else if (runnableAWhile(before, now)) look.computing++;
      else look.blocked++;
    }
    this.sightings = sightings;
    return look;
  }
}

/**
 * Whether the thread was runnable for over a quarter of the time between two sightings (without
 * scheduler statistics: if it was runnable at the first). A sleeping handler is runnable for
 * next to none of it.
 */
function runnableAWhile(before: Sighting, now: Sighting): boolean {
  if (before.runnableNs === undefined || now.runnableNs === undefined) return before.state === "R";
  return (now.runnableNs - before.runnableNs) / 1e6 > (now.at - before.at) / 4;
}

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
