// The last resort for an error no request owns: logged loudly, and the server keeps serving.
import { serializeError } from "../pool/protocol.js";
import type { Logger } from "./logger.js";

/**
 * Installs process-wide `unhandledRejection` and `uncaughtException` listeners that log one
 * ERROR line with the stack and keep the process alive; returns the function that removes them.
 * `serve()` installs it only when it owns the process (`app.listen()`, the CLI: see the
 * `containStrayErrors` option); a program that embeds the server keeps its own policy.
 *
 * Why not exit, as Node does by default and as supervisors (systemd, Kubernetes) expect? Because
 * the request pipeline already contains every request-scoped error: whatever a handler, a
 * dependency or an exception handler throws or rejects with, however odd the value, becomes that
 * request's 500. What still reaches here is a stray timer or callback in user code (a
 * `setTimeout` that throws, a promise nobody awaited), which belongs to no request. Exiting for it
 * would drop every in-flight request on both lanes to punish one bad callback; a loud log line
 * tells the owner instead. (Exiting stays the rule for the process-level faults Node reports
 * elsewhere: out of memory, a worker pool that cannot start.)
 */
export function containStrayErrors(logger: Logger): () => void {
  const onRejection = (reason: unknown) => logger.strayError("unhandled promise rejection", serializeError(reason));
  const onException = (error: unknown) => logger.strayError("uncaught exception", serializeError(error));
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  return () => {
    process.off("unhandledRejection", onRejection);
    process.off("uncaughtException", onException);
  };
}
