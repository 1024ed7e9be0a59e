// Anything may be thrown (null, a Symbol, a null-prototype object): the startup and shutdown
// paths turn what they catch into an Error whose message describes it, so a log line or the
// CLI's last words never fail, nor say "undefined", on a value that is not an Error.
import { describeValue } from "../pool/protocol.js";

/** Stands for a thrown value that is not an Error; its stack would only show Loopwise's own code. */
export class NonError extends Error {
  override name = "NonError";
}

/** The Error itself, or an Error saying that `by` threw a value that is not an Error, and which. */
export function thrownError(value: unknown, by: string): Error {
  let isError = false;
  try {
    isError = value instanceof Error;
  } catch {
    // A Proxy whose prototype cannot be read: described below like any other value.
  }
  return isError ? (value as Error) : new NonError(`${by} threw a value that is not an Error: ${describeValue(value)}`);
}

/** The message of what was thrown, read safely (a getter that throws, a message that is not a string). */
export function thrownMessage(value: unknown, by: string): string {
  try {
    const { message } = thrownError(value, by);
    if (typeof message === "string") return message;
  } catch {
    // Described below.
  }
  return `${by} threw an Error whose message cannot be read: ${describeValue(value)}`;
}
