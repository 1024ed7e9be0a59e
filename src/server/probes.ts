// Liveness and readiness, for load balancers and Kubernetes probes (opt-in: `probes`). Liveness
// says the event loop answers; readiness says whether this process should get traffic: not while
// it drains after SIGTERM, not while its pool has no worker running (and cannot start one), not
// while Redis is unreachable for an app with queue-lane routes. Before startup completes the
// server does not listen, so a probe then finds the port closed: not ready either.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { WorkerPool } from "../pool/pool.js";

export interface ProbeState {
  pool: WorkerPool;
  closing: () => boolean;
  /** False while the queue lane has lost Redis; undefined for an app without one. */
  queueConnected: () => boolean | undefined;
}

/** Why this process should not take traffic now; empty when it is ready. */
export function notReadyBecause(state: ProbeState): string[] {
  const reasons: string[] = [];
  if (state.closing()) reasons.push("draining: the server is shutting down");
  if (state.pool.ready === 0) reasons.push("no worker thread is running: worker-lane requests would get 503");
  if (state.queueConnected() === false) reasons.push("Redis is unreachable: queue-lane requests would get 503");
  return reasons;
}

/** Answers `req` when it asks for a probe's path (GET or HEAD); false for any other request. */
export function serveProbe(req: IncomingMessage, res: ServerResponse, paths: { live: string; ready: string }, state: ProbeState): boolean {
  const path = (req.url ?? "/").split("?", 1)[0];
  if (path !== paths.live && path !== paths.ready) return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    answer(res, req, 405, { detail: "Method Not Allowed" }, { allow: "GET, HEAD" });
    return true;
  }
  if (path === paths.live) {
    answer(res, req, 200, { status: "alive" });
    return true;
  }
  const reasons = notReadyBecause(state);
  answer(res, req, reasons.length === 0 ? 200 : 503, reasons.length === 0 ? { status: "ready" } : { status: "not ready", reasons });
  return true;
}

function answer(res: ServerResponse, req: IncomingMessage, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  // Never cached: a probe must see the state now.
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-store", ...headers });
  res.end(req.method === "HEAD" ? undefined : text);
}
