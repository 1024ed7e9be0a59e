// Refuses requests whose Host header names a host the app does not serve: the defence against
// DNS rebinding and poisoned absolute URLs built from the Host header.
import type { Middleware } from "../app/middleware.js";
import { json } from "../http/response.js";

export interface TrustedHostOptions {
  /** Host names served (`"example.com"`, `"*.example.com"` for its subdomains, `"*"` for any); ports are ignored. */
  allowedHosts: readonly string[];
}

/** `app.use(trustedHost({ allowedHosts: ["example.com", "*.example.com"] }))`: any other Host gets 400. */
export function trustedHost(options: TrustedHostOptions): Middleware {
  if (!Array.isArray(options?.allowedHosts)) throw new TypeError("trustedHost(): allowedHosts must be a list of host names");
  const any = options.allowedHosts.includes("*");
  const exact = new Set(options.allowedHosts.filter((h) => !h.startsWith("*.")).map((h) => h.toLowerCase()));
  const suffixes = options.allowedHosts.filter((h) => h.startsWith("*.")).map((h) => h.slice(1).toLowerCase());
  return (req, next) => {
    if (any) return next();
    const host = hostName(req.headers.host);
    if (host !== undefined && (exact.has(host) || suffixes.some((suffix) => host.endsWith(suffix)))) return next();
    return json({ detail: "Invalid host header" }, { status: 400 });
  };
}

/** The host name of a Host header, lower-cased, without its port (`[::1]:8000` → `[::1]`). */
export function hostName(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const host = value.startsWith("[") ? value.slice(0, value.indexOf("]") + 1) : value.split(":")[0]!;
  return host.toLowerCase();
}
