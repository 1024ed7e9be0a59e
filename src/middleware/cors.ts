// Cross-origin resource sharing: the preflight answered here, before routing, and the
// allow-origin headers added to every answer for an allowed origin. Browsers enforce the
// policy; the server only says what it allows.
import type { Middleware } from "../app/middleware.js";
import { appendVary } from "./vary.js";
import { asResponse, json, type HeaderValue } from "../http/response.js";

export interface CorsOptions {
  /** Origins allowed, exactly as browsers send them (`"https://app.example.com"`), `"*"` for any, or a function deciding. Default: none. */
  allowOrigins?: readonly string[] | "*" | ((origin: string) => boolean);
  /** Methods a preflight may ask for (default GET, HEAD, POST, PUT, PATCH, DELETE). */
  allowMethods?: readonly string[];
  /** Request headers a preflight may ask for, or `"*"` for any (default: none beyond the CORS-safelisted ones). */
  allowHeaders?: readonly string[] | "*";
  /** Whether the browser may send cookies and credentials (default false). With it, `"*"` origins are echoed one by one. */
  allowCredentials?: boolean;
  /** Response headers the page's script may read. */
  exposeHeaders?: readonly string[];
  /** How long a browser may cache a preflight's answer, seconds (default 600). */
  maxAge?: number;
}

const safelistedHeaders = new Set(["accept", "accept-language", "content-language", "content-type"]);

/**
 * CORS for the app: `app.use(cors({ allowOrigins: ["http://localhost:5173"] }))`. A preflight
 * (`OPTIONS` with `Access-Control-Request-Method`) is answered 204 without reaching a route,
 * or 400 naming what is not allowed; other requests run as usual and gain the allow headers
 * when their origin is allowed, none otherwise.
 */
export function cors(options: CorsOptions = {}): Middleware {
  const allowOrigin = originMatcher(options.allowOrigins ?? []);
  const anyOrigin = options.allowOrigins === "*" && !options.allowCredentials;
  const methods = (options.allowMethods ?? ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]).map((m) => m.toUpperCase());
  const anyHeader = options.allowHeaders === "*";
  const allowedHeaders = new Set(options.allowHeaders === "*" ? [] : (options.allowHeaders ?? []).map((h) => h.toLowerCase()));
  const maxAge = String(options.maxAge ?? 600);
  const expose = options.exposeHeaders?.length ? options.exposeHeaders.join(", ") : undefined;

  /** The headers every answer to an allowed origin carries. */
  const allowHeadersFor = (origin: string, headers: Record<string, HeaderValue>) => {
    headers["access-control-allow-origin"] = anyOrigin ? "*" : origin;
    if (!anyOrigin) appendVary(headers, "origin");
    if (options.allowCredentials) headers["access-control-allow-credentials"] = "true";
  };

  return async (req, next) => {
    const origin = single(req.headers.origin);
    if (origin === undefined) return next();
    const requestedMethod = single(req.headers["access-control-request-method"]);
    if (req.method === "OPTIONS" && requestedMethod !== undefined) {
      const requested = (single(req.headers["access-control-request-headers"]) ?? "")
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h !== "");
      const refused: string[] = [];
      if (!allowOrigin(origin)) refused.push("origin");
      if (!methods.includes(requestedMethod.toUpperCase())) refused.push("method");
      if (!anyHeader && requested.some((h) => !safelistedHeaders.has(h) && !allowedHeaders.has(h))) refused.push("headers");
      // A refusal carries no allow-origin header: the browser then blocks the real request.
      const headers: Record<string, HeaderValue> = { vary: "origin" };
      if (refused.length > 0) {
        return json({ detail: `Disallowed CORS ${refused.join(", ")}` }, { status: 400, headers });
      }
      allowHeadersFor(origin, headers);
      headers["access-control-allow-methods"] = methods.join(", ");
      const allowed = anyHeader ? requested : [...allowedHeaders];
      if (allowed.length > 0) headers["access-control-allow-headers"] = allowed.join(", ");
      headers["access-control-max-age"] = maxAge;
      return asResponse({ status: 204, headers, body: "" });
    }
    const response = await next();
    if (allowOrigin(origin)) {
      allowHeadersFor(origin, response.headers);
      if (expose) response.headers["access-control-expose-headers"] = expose;
    } else if (!anyOrigin) appendVary(response.headers, "origin");
    return response;
  };
}

function originMatcher(allow: CorsOptions["allowOrigins"] & {}): (origin: string) => boolean {
  if (allow === "*") return () => true;
  if (typeof allow === "function") return (origin) => allow(origin) === true;
  if (!Array.isArray(allow)) throw new TypeError('cors(): allowOrigins must be a list of origins, "*", or a function');
  for (const origin of allow) {
    if (origin.endsWith("/")) throw new TypeError(`cors(): the origin ${JSON.stringify(origin)} ends with "/"; browsers send origins without a path`);
  }
  const origins = new Set(allow);
  return (origin) => origins.has(origin);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
