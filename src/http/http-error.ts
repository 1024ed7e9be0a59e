import { statusText } from "./status-text.js";

/**
 * Raise it from a handler on either lane to answer with `status` and `{"detail": detail}`.
 *
 *     throw new HttpError(404, "Item not found")   // → 404 {"detail":"Item not found"}
 */
export class HttpError extends Error {
  override readonly name = "HttpError";
  readonly detail: unknown;
  constructor(
    readonly status: number,
    detail?: unknown,
    readonly headers: Record<string, string | string[]> = {},
  ) {
    const text = statusText(status) ?? "Error";
    super(typeof detail === "string" ? detail : text);
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`HttpError status must be an integer from 400 to 599, got ${status}`);
    }
    this.detail = detail ?? text;
  }
}
