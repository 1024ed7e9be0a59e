// A request id: taken from the client (or the proxy in front) when it sent a sane one, made
// otherwise; on `req.requestId`, echoed in the response, and written in the access log line.
import { randomUUID } from "node:crypto";
import type { Middleware } from "../app/middleware.js";

export interface RequestIdOptions {
  /** The header read and echoed (default `x-request-id`). */
  header?: string;
  /** Makes a new id (default a random UUID). */
  generate?: () => string;
  /** Whether an id the client sent is kept (default true; false when clients are not trusted to choose ids). */
  trustIncoming?: boolean;
}

/** Ids a client may choose: short, printable, nothing that could split a log line. */
const saneId = /^[\w.:/+=@-]{1,200}$/;

/** `app.use(requestId())`: every answer carries `x-request-id`, errors included. */
export function requestId(options: RequestIdOptions = {}): Middleware {
  const header = (options.header ?? "x-request-id").toLowerCase();
  const generate = options.generate ?? randomUUID;
  const trust = options.trustIncoming ?? true;
  return async (req, next) => {
    const incoming = req.headers[header];
    const id = trust && typeof incoming === "string" && saneId.test(incoming) ? incoming : generate();
    req.requestId = id;
    const response = await next();
    response.headers[header] = id;
    return response;
  };
}
