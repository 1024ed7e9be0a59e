// A `loopwise worker` process's line per job, as text or JSON: the access log of a process that
// serves no HTTP. The Logger writes it (logger.ts holds every line the framework prints).
import { STATUS_CODES } from "node:http";
import type { JobRecord } from "../queue/job-runner.js";

import { ms, processFields, round } from "./access-line.js";

/**
 *     2026-11-28T01:03:26.655Z INFO job 7e77661e-2 "GET /render?n=200" 200 OK completed 70.6ms lane=worker#3 queued=1.0ms
 *     2026-11-28T01:03:26.918Z INFO job 3 poster completed 40.8ms lane=worker attempt=1/3
 */
export function formatJobText(record: JobRecord): string {
  const what =
    record.target === undefined
      ? record.name
      : `"${record.name.split(" ")[0]} ${record.target}" ${record.status} ${STATUS_CODES[record.status ?? 0] ?? ""}`;
  const queued = record.queuedMs === undefined ? "" : ` queued=${ms(record.queuedMs)}`;
  const tries = record.attempts > 1 ? ` attempt=${record.attempt}/${record.attempts}` : "";
  const error = record.error ? `: ${record.error.message}` : "";
  return `${new Date().toISOString()} INFO job ${record.id} ${what} ${record.outcome} ${ms(record.durationMs)} lane=${record.lane}${queued}${tries}${error}`;
}

export function jobToJson(record: JobRecord): Record<string, unknown> {
  const { durationMs, queuedMs, error, ...rest } = record;
  return {
    level: 30,
    time: Date.now(),
    ...processFields,
    msg: `job ${record.id} ${record.name} ${record.outcome}`,
    event: "job",
    ...rest,
    duration_ms: round(durationMs),
    queued_ms: queuedMs === undefined ? null : round(queuedMs),
    error: error?.message ?? null,
  };
}
