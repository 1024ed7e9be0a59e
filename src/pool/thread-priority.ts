import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * Lowers the scheduling priority of the calling thread only. On Linux `setpriority` with a
 * thread id applies to that one thread, so CPU-heavy workers yield the cores to the event
 * loop. Elsewhere (no /proc/thread-self) it does nothing and says so.
 */
export function lowerThreadPriority(niceness: number): boolean {
  if (niceness <= 0) return false;
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, niceness);
    return true;
  } catch {
    return false;
  }
}
