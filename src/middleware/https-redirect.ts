// Sends plain-HTTP requests to the same URL over HTTPS.
import type { Middleware } from "../app/middleware.js";
import { json, redirect } from "../http/response.js";
import { hostName } from "./trusted-host.js";

/**
 * `app.use(httpsRedirect())`: a request that came over plain HTTP is answered 307 (method and
 * body kept) with the same URL on https. Behind a proxy that ends TLS, serve with
 * `--proxy-headers` so the scheme the client used is known.
 */
export function httpsRedirect(): Middleware {
  return (req, next) => {
    if (req.scheme === "https") return next();
    const host = hostName(req.headers.host);
    if (host === undefined) return json({ detail: "Missing host header" }, { status: 400 });
    const port = (Array.isArray(req.headers.host) ? req.headers.host[0] : req.headers.host)!.slice(host.length + 1);
    const authority = port === "" || port === "80" || port === "443" ? host : `${host}:${port}`;
    return redirect(`https://${authority}${req.url}`, 307);
  };
}
