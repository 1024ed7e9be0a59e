// The one way a Redis is named: a redis:// or rediss:// URL, checked once at start with a message
// that says what is wrong, and shown in logs without its password.

/** What ioredis connects with, read from the URL. */
export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** rediss:// (TLS); the server's certificate is checked against the system's CAs. */
  tls?: { servername: string };
}

export class RedisUrlError extends TypeError {
  override readonly name = "RedisUrlError";
}

/** `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. */
export function parseRedisUrl(text: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RedisUrlError(`the Redis URL must look like redis://host:6379, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new RedisUrlError(`the Redis URL must start with redis:// or rediss://, got ${JSON.stringify(redacted(text))}`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new RedisUrlError(`the Redis URL names no host: ${JSON.stringify(redacted(text))}`);
  const dbText = url.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new RedisUrlError(`the Redis database must be a number, as in redis://host:6379/2, got "/${dbText}"`);
  const target: RedisTarget = { host, port: url.port === "" ? 6379 : Number(url.port), db };
  if (url.username !== "") target.username = decodeURIComponent(url.username);
  if (url.password !== "") target.password = decodeURIComponent(url.password);
  if (url.protocol === "rediss:") target.tls = { servername: host };
  return target;
}

/** The URL as logs show it: the password replaced by stars. */
export function redacted(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== "") url.password = "****";
    return url.href;
  } catch {
    return text.replace(/\/\/[^@/]*@/, "//****@");
  }
}
