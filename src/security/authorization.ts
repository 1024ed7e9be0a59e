// Reading the Authorization header: `scheme credentials`, as RFC 9110 writes it.

/** The scheme (as sent) and what follows it, trimmed; undefined when there is no header. */
export function authorization(header: string | string[] | undefined): { scheme: string; credentials: string } | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  const space = value.search(/\s/);
  if (space < 0) return { scheme: value, credentials: "" };
  return { scheme: value.slice(0, space), credentials: value.slice(space).trim() };
}

/** A bearer token is printable ASCII without spaces (RFC 6750's b64token is stricter still). */
export function isToken(value: string): boolean {
  return /^[\x21-\x7e]+$/.test(value);
}
