// Idempotency-Key on the queue lane (the IETF httpapi draft): a request that carries one runs at
// most once. The key names the job itself (a hash of the route and the key), so Redis, which
// refuses a second job under one id, is what makes a retry, from any server process, find the
// first run instead of starting another.
import { createHash } from "node:crypto";
import type { HttpRequest } from "../http/request.js";
import { IdempotencyKeyError } from "../lanes/queue-errors.js";
import { encodeForProcess } from "../lanes/results.js";

/** A key is remembered this long after its request was answered: a retry within it gets the stored answer. */
export const idempotencyKeyTtlMs = 24 * 60 * 60 * 1000;

/** What a key may be: the draft's sf-string (quoted) or the bare token most clients send; printable, 1 to 255 characters. */
const keyPattern = /^[\x21-\x7e]{1,255}$/;

/** The request's key, undefined when it has none; a malformed one is a KeyError (400). */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) throw new IdempotencyKeyError("send one Idempotency-Key header, not several");
  const quoted = /^"(.*)"$/.exec(header);
  const key = quoted ? quoted[1]! : header;
  if (!keyPattern.test(key)) throw new IdempotencyKeyError("Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good key)");
  return key;
}

/** The job id for a key: one per route, so the same key sent to two routes names two runs. */
export function idempotentJobId(route: string, key: string): string {
  return `idem-${createHash("sha256").update(route).update("\n").update(key).digest("hex")}`;
}

/** What a request asks, hashed: its method, target and body (its bytes as they came, when kept), not its headers. */
export function requestFingerprint(request: HttpRequest): string {
  const hash = createHash("sha256").update(`${request.method} ${request.url}\n`);
  if (request.rawBody !== undefined) hash.update(request.rawBody);
  else hash.update(encodeForProcess(request.body ?? null));
  return hash.digest("hex");
}
