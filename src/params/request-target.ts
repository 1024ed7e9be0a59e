// The request target as the router needs it: a path and a query string.

const absoluteForm = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/**
 * The origin form (`/path?query`) of a request target. A client may send the absolute form
 * (RFC 9112 §3.2.2: `GET http://host/path?x=1 HTTP/1.1`, what proxies receive) and a server must
 * accept it; Node hands it over as it came.
 *
 *     originForm("http://example.com/items?limit=5")  // → "/items?limit=5"
 *     originForm("http://example.com")                // → "/"
 */
export function originForm(target: string): string {
  if (target.charCodeAt(0) === 47 /* "/" */) return target;
  const authority = absoluteForm.exec(target);
  if (authority === null) return target;
  const rest = target.slice(authority[0].length);
  return rest.startsWith("/") ? rest : `/${rest}`;
}
