// The two ways the bench loads a server: closed-loop throughput (autocannon) and an open-loop
// probe that measures latency from each request's planned send time.
import autocannon from "autocannon";
import { Agent, request } from "node:http";

export interface Throughput {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Responses other than 2xx, socket errors and timeouts. */
  failures: number;
  total: number;
  /** Filled in by the caller from the server's own CPU counter. */
  cpuUsPerRequest?: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationSec: number;
  requests?: autocannon.Request[];
}

export async function closedLoop(options: LoadOptions): Promise<Throughput> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSec,
    requests: options.requests,
    timeout: 10,
  });
  return {
    reqPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    failures: result.non2xx + result.errors + result.timeouts,
    total: result.requests.total,
  };
}

export interface ProbeResult {
  sent: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  failures: number;
}

/**
 * Sends GET `url` every `intervalMs` for `durationMs`, whether or not earlier requests have
 * answered, and times each from when it was due. A stalled server therefore shows its stall in
 * every request that should have gone out during it (no coordinated omission).
 */
export async function openLoopProbe(url: string, intervalMs: number, durationMs: number, sharedAgent?: Agent): Promise<ProbeResult> {
  const agent = sharedAgent ?? new Agent({ keepAlive: true, maxSockets: 256 });
  const latencies: number[] = [];
  let failures = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const count = Math.floor(durationMs / intervalMs);
  for (let i = 0; i < count; i++) {
    const planned = start + i * intervalMs;
    const wait = planned - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      fetchVia(agent, url).then(
        (ok) => {
          latencies.push(performance.now() - planned);
          if (!ok) failures++;
        },
        () => {
          latencies.push(performance.now() - planned);
          failures++;
        },
      ),
    );
  }
  await Promise.all(pending);
  if (!sharedAgent) agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    sent: count,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? 0,
    failures,
  };
}

/** GET through `agent`; resolves whether the answer was a 200. */
export function fetchVia(agent: Agent, url: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode === 200));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("probe request timed out")));
    req.on("error", reject);
    req.end();
  });
}

export interface TimedAnswer {
  /** The HTTP status, or null when no answer came (socket error, timeout). */
  status: number | null;
  /** From send to the end of the answer. */
  ms: number;
  /** performance.now() when it settled. */
  at: number;
}

/** One GET through `agent`, timed; gives up after `timeoutMs` without a byte. Never rejects. */
export function timedGet(agent: Agent, url: string, timeoutMs: number): Promise<TimedAnswer> {
  const sent = performance.now();
  const settle = (status: number | null): TimedAnswer => {
    const at = performance.now();
    return { status, ms: at - sent, at };
  };
  return new Promise((resolve) => {
    const req = request(url, { agent, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve(settle(res.statusCode ?? null)));
      res.on("error", () => resolve(settle(null)));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", () => resolve(settle(null)));
    req.end();
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
