// The reason phrase of a status code ("Not Found"), as node:http knows them. Read from node:http
// on first use only: a pool worker that never answers with an error of its own does not load
// the HTTP server's modules (about 5 ms of CPU per worker).
import { createRequire } from "node:module";

let phrases: Record<number, string | undefined> | undefined;

/** The reason phrase of `status`, or undefined for a code node:http does not know. */
export function statusText(status: number): string | undefined {
  phrases ??= (createRequire(import.meta.url)("node:http") as typeof import("node:http")).STATUS_CODES;
  return phrases[status];
}
