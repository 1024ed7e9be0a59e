// The words of a WebSocket's ending: close codes (RFC 6455 §7.4), the error a handler raises to
// close with one (Starlette's WebSocketException), the one it gets when the connection is gone
// (Starlette's WebSocketDisconnect), and the one a client gets when its handshake is refused.

/** The close codes Loopwise sends, and the ones a handler most often wants. */
export const closeCodes = {
  /** The session ended as it should: the handler returned, or closed without a code. */
  normal: 1000,
  /** The server is shutting down (or a browser tab went away). */
  goingAway: 1001,
  /** A message of a type the handler does not take (binary where it reads text, or the reverse). */
  unsupportedData: 1003,
  /** The peer went away without a close frame (never sent: only reported). */
  abnormal: 1006,
  /** A message whose content is wrong for its type: JSON that does not parse. */
  invalidData: 1007,
  /** The handler refuses the peer: raise `WebSocketError(closeCodes.policyViolation, reason)`. */
  policyViolation: 1008,
  /** A message larger than the route's `maxMessageSize`. */
  messageTooBig: 1009,
  /** The handler failed: it threw something other than a WebSocketError. */
  internalError: 1011,
  /** The server is overloaded: come back later. */
  tryAgainLater: 1013,
} as const;

/** The reason a close frame gives when the server shuts down (with closeCodes.goingAway). */
export const shutdownCloseReason = "Server shutting down";

/** Codes a server may send in a close frame: the ones RFC 6455 defines for that, and 3000–4999 for apps. */
export function isSendableCloseCode(code: unknown): code is number {
  if (typeof code !== "number" || !Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

/** A close frame carries at most 123 bytes of reason: a longer one is cut at a character boundary. */
export function fitCloseReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let cut = reason.slice(0, 123);
  while (Buffer.byteLength(cut) > 123) cut = cut.slice(0, -1);
  // Never leave half of a surrogate pair behind.
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

function checked(code: number, reason: string, who: string): string {
  if (!isSendableCloseCode(code)) {
    throw new RangeError(`${who}: ${code} is not a close code a server may send (1000–1003, 1007–1014, or 3000–4999 for your own)`);
  }
  if (typeof reason !== "string") throw new TypeError(`${who}: the reason must be a string`);
  return fitCloseReason(reason);
}

/**
 * Raise it from a WebSocket handler (or a helper it calls) to close the connection with `code`
 * and `reason`, without an error in the log:
 *
 *     throw new WebSocketError(closeCodes.policyViolation, "Unknown room");   // → close 1008
 *
 * Raised by a dependency before the connection is accepted, it refuses the handshake with 403.
 */
export class WebSocketError extends Error {
  override readonly name = "WebSocketError";
  readonly reason: string;
  constructor(
    readonly code: number,
    reason = "",
  ) {
    const fitted = checked(code, reason, "WebSocketError");
    super(fitted || `close ${code}`);
    this.reason = fitted;
  }
}

/**
 * The connection is closed (by the peer, by a dead-peer check, by shutdown, or by the handler
 * itself): raised by `receive()` and `send()` from then on. A handler need not catch it: one that
 * ends with it has simply finished, like a Starlette endpoint that lets WebSocketDisconnect out.
 */
export class WebSocketDisconnect extends Error {
  override readonly name = "WebSocketDisconnect";
  constructor(
    readonly code: number,
    readonly reason = "",
  ) {
    super(`the WebSocket is closed (code ${code}${reason ? `: ${reason}` : ""})`);
  }
}

/** `ws.close(code, reason)` checked the same way as WebSocketError, for the handler's own close. */
export function checkedClose(code: number, reason: string): string {
  return checked(code, reason, "close()");
}

/**
 * A WebSocket handshake was answered with an HTTP response instead of 101 (a 404, a 422, the
 * 401 of a dependency): what the TestClient's `websocket()` rejects with.
 */
export class WebSocketDenied extends Error {
  override readonly name = "WebSocketDenied";
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly text: string,
    /** Behind a 500: the error the server would log. */
    readonly error?: { name: string; message: string; stack?: string },
  ) {
    super(`the WebSocket handshake was refused with ${status}: ${text}`);
  }

  /** The body parsed as JSON (throws if it is not JSON). */
  json(): any {
    return JSON.parse(this.text);
  }
}
