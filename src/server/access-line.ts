// The access line: one per request (or WebSocket session), as text or JSON, and read back from
// JSON (the demo reads the server's log this way).
import { STATUS_CODES } from "node:http";
import { hostname } from "node:os";

/** What pino puts in every JSON line besides level and time. */
export const processFields = { pid: process.pid, hostname: hostname() };

export const ms = (value: number) => `${value.toFixed(1)}ms`;
export const round = (value: number) => Math.round(value * 100) / 100;

/** One finished request, as the access log records it. */
export interface AccessRecord {
  /** Epoch ms when the request arrived. */
  start: number;
  client: string;
  method: string;
  target: string;
  httpVersion: string;
  status: number;
  durationMs: number;
  lane: string;
  queuedMs: number | undefined;
  /** Body bytes sent, for a streamed response (its length was not known at the start). */
  bytes?: number;
  /** The request's id, when the requestId() middleware gave it one. */
  requestId?: string;
  /** A WebSocket session's close code (its line is written when it ends). */
  closeCode?: number;
}

/** The access line of DESIGN.md: uvicorn's line plus timestamp, duration, lane and queue wait. */
export function formatAccessText(record: AccessRecord): string {
  const queued = record.queuedMs === undefined ? "" : ` queued=${ms(record.queuedMs)}`;
  const bytes = record.bytes === undefined ? "" : ` bytes=${record.bytes}`;
  const id = record.requestId === undefined ? "" : ` id=${JSON.stringify(record.requestId)}`;
  const close = record.closeCode === undefined ? "" : ` close=${record.closeCode}`;
  return (
    `${new Date(record.start + record.durationMs).toISOString()} INFO ${record.client} - ` +
    `"${record.method} ${record.target} HTTP/${record.httpVersion}" ${record.status} ${reasonPhrase(record.status)} ` +
    `${ms(record.durationMs)} lane=${record.lane}${queued}${bytes}${id}${close}`
  );
}

export function accessToJson(record: AccessRecord): Record<string, unknown> {
  return {
    level: 30,
    time: Math.round(record.start + record.durationMs),
    ...processFields,
    msg: `${record.method} ${record.target} ${record.status}`,
    event: "access",
    client: record.client,
    method: record.method,
    path: record.target,
    http_version: record.httpVersion,
    status: record.status,
    duration_ms: round(record.durationMs),
    lane: record.lane,
    queued_ms: record.queuedMs === undefined ? null : round(record.queuedMs),
    ...(record.bytes === undefined ? {} : { bytes: record.bytes }),
    ...(record.requestId === undefined ? {} : { request_id: record.requestId }),
    start: record.start,
    ...(record.closeCode === undefined ? {} : { close_code: record.closeCode }),
  };
}

/** Reads back a JSON access line (the demo reads the server's log this way). */
export function accessFromJson(line: Record<string, unknown>): AccessRecord | undefined {
  if (line.event !== "access") return undefined;
  return {
    start: Number(line.start),
    client: String(line.client),
    method: String(line.method),
    target: String(line.path),
    httpVersion: String(line.http_version),
    status: Number(line.status),
    durationMs: Number(line.duration_ms),
    lane: String(line.lane),
    queuedMs: line.queued_ms === null ? undefined : Number(line.queued_ms),
  };
}

/** nginx's 499 is not in Node's table: the client closed the connection before the answer. */
function reasonPhrase(status: number): string {
  return status === 499 ? "Client Closed Request" : (STATUS_CODES[status] ?? "");
}
