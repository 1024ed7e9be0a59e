// Runs bench/lib/flood.ts in a process of its own and hands back how the requests were answered.
import { execFile } from "node:child_process";

export interface FloodResult {
  outcomes: Record<string, number>;
  /** Until the last request was answered or given up. */
  seconds: number;
  /** [HTTP status, ms from the flood's start] of every request that got an answer. */
  answers: Array<[number, number]>;
}

/** COUNT requests at once to URL; a request still unanswered after `patienceMs` is given up. */
export function floodFrom(url: string, count: number, patienceMs = 60_000): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "bench/lib/flood.ts", url, String(count), String(patienceMs)],
      { timeout: patienceMs + 60_000, maxBuffer: 64 * 2 ** 20 },
      (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout) as FloodResult)),
    );
  });
}
