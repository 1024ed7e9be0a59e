// `Expect: 100-continue` for bodies that are not read whole. The server invites a body at once
// only when its declared length is within the body limit; a larger one may still be a form a
// route takes (an upload), so the invitation waits for the route's reader, which sends it once
// it has checked the length against its own limits, or never, when it refuses the body.
import type { IncomingMessage } from "node:http";

const waiting = new WeakMap<IncomingMessage, () => void>();

/** Holds the 100 Continue of `req` until a reader asks for the body. */
export function continueLater(req: IncomingMessage, send: () => void): void {
  waiting.set(req, send);
}

/** Sends the 100 Continue held for `req`, if any: its reader is about to read the body. */
export function continueNow(req: IncomingMessage): void {
  const send = waiting.get(req);
  if (send === undefined) return;
  waiting.delete(req);
  send();
}
