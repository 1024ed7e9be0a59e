import type { HeaderValue } from "../http/response.js";

/** Adds `name` to the response's Vary header (once), keeping what other middleware put there. */
export function appendVary(headers: Record<string, HeaderValue>, name: string): void {
  const existing = headers.vary;
  const names = (Array.isArray(existing) ? existing.join(",") : (existing ?? ""))
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
  if (names.includes("*") || names.some((n) => n.toLowerCase() === name)) return;
  headers.vary = [...names, name].join(", ");
}
