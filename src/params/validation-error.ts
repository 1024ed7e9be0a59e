// The 422 answer for input that does not match what the route declared, in FastAPI's shape:
//     {"detail":[{"type":"missing","loc":["query","limit"],"msg":"Field required","input":null}]}
import type { StandardSchemaV1 } from "./standard-schema.js";

/** Where an input comes from, as the first element of an error's `loc`. */
export type InputSource = "path" | "query" | "header" | "cookie" | "body";

export interface ValidationIssue {
  /** A machine-readable kind: the validator's issue code (`invalid_type`, `too_big`, ...) or `missing`. */
  type: string;
  loc: (string | number)[];
  msg: string;
  /** The offending value as received (null when it was missing). */
  input: unknown;
}

/** The body of a 422 answer (FastAPI's `HTTPValidationError`). */
export interface HTTPValidationError {
  detail: ValidationIssue[];
}

/** The body of an answer the framework or an `HttpError` makes: `{"detail": ...}` (a 404, a 500, a dependency's 401). */
export interface ErrorBody {
  detail: unknown;
}

/**
 * Thrown (on the main thread) when a request's declared inputs do not validate; answered 422
 * with every issue found, unless the app registers its own handler for this class.
 */
export class RequestValidationError extends Error {
  override readonly name = "RequestValidationError";
  constructor(readonly issues: ValidationIssue[]) {
    super(`${issues.length} validation error${issues.length === 1 ? "" : "s"} in the request`);
  }
}

/** Turns a validator's issues for one input source into FastAPI-shaped entries. */
export function toIssues(
  source: InputSource,
  issues: ReadonlyArray<StandardSchemaV1.Issue>,
  input: unknown,
  locOf: (key: string) => string = (k) => k,
): ValidationIssue[] {
  return issues.map((issue) => {
    const path = (issue.path ?? []).map((segment) => {
      const key = typeof segment === "object" ? segment.key : segment;
      return typeof key === "number" ? key : String(key);
    });
    if (path.length > 0 && typeof path[0] === "string") path[0] = locOf(path[0]);
    const value = valueAt(input, issue.path ?? []);
    const code = (issue as { code?: unknown }).code;
    if (value === undefined) return { type: "missing", loc: [source, ...path], msg: "Field required", input: null };
    return { type: typeof code === "string" ? code : "value_error", loc: [source, ...path], msg: issue.message, input: shown(value) };
  });
}

/** An uploaded file is shown by what the client said of it: its bytes are not the point, and JSON would show `{}`. */
function shown(value: unknown): unknown {
  return value instanceof File ? { filename: value.name, contentType: value.type, size: value.size } : value;
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey | StandardSchemaV1.PathSegment>): unknown {
  let value = input;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    const key = typeof segment === "object" ? segment.key : segment;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
