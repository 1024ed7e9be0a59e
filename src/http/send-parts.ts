// The jshttp packages `send` is built from (range-parser, fresh, etag, mime-types, encodeurl),
// declared as Loopwise's own dependencies. `send` as a whole does not fit: it writes to a
// ServerResponse itself, so middleware could not see or change the answer, the TestClient (which
// has no socket) could not read it, and a worker could not return it as data; depending on it
// for its parts brought twelve more packages into every install (debug, http-errors, on-finished...).
import type { Stats } from "node:fs";
import { createRequire } from "node:module";

/** A byte range, both ends included. */
export interface ByteRange {
  start: number;
  end: number;
}

interface Parts {
  /** -1: no range can be satisfied; -2: the header is malformed. */
  rangeParser: (size: number, header: string, options: { combine: boolean }) => -1 | -2 | (ByteRange[] & { type: string });
  /** Whether a cached copy with these validators is still good (If-None-Match, If-Modified-Since). */
  fresh: (request: Record<string, unknown>, response: Record<string, unknown>) => boolean;
  etag: (stats: Stats, options: { weak: boolean }) => string;
  mime: { contentType: (extensionOrType: string) => string | false };
  encodeUrl: (url: string) => string;
}

let parts: Parts | undefined;

/** Loaded on first use: an app that sends no file never reads them (nor does a worker). */
export function sendParts(): Parts {
  if (parts) return parts;
  const require = createRequire(import.meta.url);
  parts = {
    rangeParser: require("range-parser"),
    fresh: require("fresh"),
    etag: require("etag"),
    mime: require("mime-types"),
    encodeUrl: require("encodeurl"),
  };
  return parts;
}
