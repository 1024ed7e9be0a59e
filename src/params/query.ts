import type { Query } from "../http/request.js";

/**
 * Parses a query string; a repeated key becomes an array.
 *
 *     parseQuery("tag=a&tag=b&limit=10")  // → { tag: ["a", "b"], limit: "10" }
 */
export function parseQuery(search: string): Query {
  const query: Query = Object.create(null);
  if (search === "") return query;
  for (const [key, value] of new URLSearchParams(search)) {
    const existing = query[key];
    if (existing === undefined) query[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else query[key] = [existing, value];
  }
  return query;
}
