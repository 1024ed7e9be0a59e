// Refusing a body mid-way (413) without losing the answer: a socket closed while the client's
// bytes are still arriving is reset, and a client still writing then sees the reset instead of
// the answer. So the rest is read and dropped first, for a moment, before the answer goes out.
import type { IncomingMessage } from "node:http";

/** How long a refused body is read on, at most, before its answer (which closes the connection) goes out. */
export const lingerMs = 1000;

/** Reads the rest of `req` and drops it; calls `then` once it has all come, the client left, or `lingerMs` passed. */
export function drainThen(req: IncomingMessage, then: () => void): void {
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    req.off("end", finish);
    req.off("close", finish);
    then();
  };
  const timer = setTimeout(finish, lingerMs);
  req.on("end", finish);
  req.on("close", finish);
  req.resume();
  if (req.readableEnded) finish();
}
