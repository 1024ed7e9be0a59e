// Exception handlers by error class (FastAPI's `@app.exception_handler(Cls)`): the app's own
// answer for an error, run on the lane where the error was raised.
import type { HttpRequest } from "../http/request.js";
import { toResult, type RouteResult } from "../http/response.js";
import { errorResult } from "./error-table.js";

/** Returns the response for `error`: a plain value is sent as JSON with status 500, or use `json(value, { status })`. */
export type ErrorHandler<E = any> = (error: E, req: HttpRequest) => unknown;

export type ErrorClass<E> = abstract new (...args: any[]) => E;

export class ErrorHandlers {
  private readonly byClass = new Map<Function, ErrorHandler>();

  add<E>(errorClass: ErrorClass<E>, handler: ErrorHandler<E>): void {
    if (typeof errorClass !== "function") throw new TypeError("an exception handler needs an error class");
    if (typeof handler !== "function") throw new TypeError(`the exception handler for ${errorClass.name} is not a function`);
    this.byClass.set(errorClass, handler);
  }

  /** Whether the app has its own handler for this error. */
  handles(error: unknown): boolean {
    return this.find(error) !== undefined;
  }

  /** The handler of the error's closest class (its own, else its parent's, ...), if any. */
  private find(error: unknown): ErrorHandler | undefined {
    if (this.byClass.size === 0 || error === null || typeof error !== "object") return undefined;
    try {
      for (let proto = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
        const handler = this.byClass.get(proto.constructor);
        if (handler) return handler;
      }
    } catch {
      // A Proxy whose traps throw, a `constructor` getter that throws: no class to go by.
    }
    return undefined;
  }

  /**
   * The response for an error: the app's handler for it, else the default (never a stack). It
   * never throws nor rejects: a handler that fails, or answers what cannot be sent, is a 500.
   */
  respond(error: unknown, req: HttpRequest): RouteResult | Promise<RouteResult> {
    const handler = this.find(error);
    if (!handler) return errorResult(error);
    const keepForLog = (result: RouteResult) => {
      // A handler that answers 500 keeps the original error for the log.
      if (result.status >= 500 && !result.error) result.error = errorResult(error).error;
      return result;
    };
    const settle = (value: unknown): RouteResult | Promise<RouteResult> => {
      try {
        const result = toResult(value, 500);
        return result instanceof Promise ? result.then(keepForLog, errorResult) : keepForLog(result);
      } catch (raised) {
        return errorResult(raised);
      }
    };
    try {
      const value = handler(error, req);
      return value instanceof Promise ? value.then(settle, errorResult) : settle(value);
    } catch (raised) {
      return errorResult(raised);
    }
  }
}
