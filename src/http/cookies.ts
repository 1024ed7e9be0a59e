// Setting and deleting cookies from a handler: each becomes its own Set-Cookie line, serialised
// by the `cookie` package (names and values checked, attributes spelled as browsers expect).
import { serialize, type SerializeOptions } from "cookie";
import type { HeaderValue } from "./response.js";

/** A cookie's attributes, as `cookie.serialize` takes them (`maxAge` in seconds). */
export type CookieOptions = SerializeOptions;

/** A cookie to set: its value alone (path `/`), or its value and attributes. `null` deletes the cookie. */
export type CookieSetting = string | ({ value: string } & CookieOptions) | null;

/** Cookies by name, as a response's `cookies` option takes them. */
export type CookieJar = Record<string, CookieSetting>;

/**
 * A Set-Cookie header value; the path defaults to `/`, as a cookie set for a whole site usually is.
 *
 *     setCookie("session", "abc", { httpOnly: true, sameSite: "lax", maxAge: 3600 })
 *     // → "session=abc; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax"
 */
export function setCookie(name: string, value: string, options: CookieOptions = {}): string {
  return serialize(name, value, { path: "/", ...options });
}

/** A Set-Cookie header value that makes the browser forget the cookie (same path and domain as it was set with). */
export function deleteCookie(name: string, options: Pick<CookieOptions, "path" | "domain" | "secure" | "sameSite" | "partitioned"> = {}): string {
  return serialize(name, "", { path: "/", ...options, expires: new Date(0), maxAge: 0 });
}

/** Adds one Set-Cookie line per cookie of `jar` to `headers`, after any already there. */
export function addCookies(headers: Record<string, HeaderValue>, jar: CookieJar): void {
  const lines: string[] = [];
  for (const [name, setting] of Object.entries(jar)) {
    if (setting === null) lines.push(deleteCookie(name));
    else if (typeof setting === "string") lines.push(setCookie(name, setting));
    else {
      const { value, ...options } = setting;
      lines.push(setCookie(name, value, options));
    }
  }
  const existing = headers["set-cookie"];
  headers["set-cookie"] = [...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]), ...lines];
}
