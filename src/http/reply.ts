// A handler's answer with its own status, headers or cookies whose body is still the route's to
// check: FastAPI's `Response` parameter. `json(value, init)` sends what it is given; `reply(value,
// init)` has the value validated by the schema the route declared for that status (`responses`,
// else `response`) and documented by it.
import { describeValue } from "../pool/protocol.js";
import type { ResponseInit } from "./response.js";

const replyBrand = Symbol.for("loopwise.reply");

/** A body value with the status, headers and cookies to send it with; made by `reply()`. */
export interface Reply<T = unknown> {
  readonly [replyBrand]: true;
  readonly value: T;
  readonly init: ResponseInit;
}

/**
 * The body `value` with a status, headers or cookies of the handler's choosing, validated and
 * documented by the route's schema for that status:
 *
 *     app.post("/items", { body: Item, response: Item }, (req) =>
 *       reply(save(req.body), { status: 201, headers: { location: "/items/1" } }));
 */
export function reply<T>(value: T, init: ResponseInit = {}): Reply<T> {
  if (init === null || typeof init !== "object")
    throw new TypeError(`reply() takes its status, headers and cookies as an object, got ${describeValue(init)}`);
  return { [replyBrand]: true, value, init };
}

export function isReply(value: unknown): value is Reply {
  return value !== null && typeof value === "object" && replyBrand in value;
}
