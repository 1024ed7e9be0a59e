// Comparing a secret the client sent with the right one without leaking, through how long the
// comparison takes, how much of it matched (`===` stops at the first difference).
import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Whether `given` equals `expected`, in a time that depends on neither: both are hashed first, so
 * even their lengths stay hidden (timingSafeEqual alone needs equal lengths). Python's
 * `secrets.compare_digest`, which FastAPI's docs use for HTTP basic.
 *
 *     const userOk = compareSecrets(credentials.username, "stanley");
 *     const passwordOk = compareSecrets(credentials.password, "swordfish");   // both compared, always
 *     if (!userOk || !passwordOk) throw new HttpError(401, "Incorrect username or password", ...);
 */
export function compareSecrets(given: string | Uint8Array, expected: string | Uint8Array): boolean {
  const digest = (value: string | Uint8Array) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
