// A route's declared inputs, compiled once at registration into a plan that the request path
// only executes: read each source, coerce its strings, validate, keep the validated values.
// It runs on the main thread, so a worker-lane handler receives data that already passed.
import type { HttpRequest } from "../http/request.js";
import { coercerFor, type Coercer } from "./coerce.js";
import { parseCookies } from "./cookies.js";
import { isFormBody } from "./form-body.js";
import { jsonSchemaOf, isStandardSchema, type StandardSchemaV1 } from "./standard-schema.js";
import { RequestValidationError, toIssues, type InputSource, type ValidationIssue } from "./validation-error.js";
import { headerName } from "./header-name.js";

/** The inputs a route may declare, each with any Standard Schema v1 validator (Zod, Valibot, ArkType). */
export interface InputSchemas {
  params?: StandardSchemaV1;
  query?: StandardSchemaV1;
  headers?: StandardSchemaV1;
  cookies?: StandardSchemaV1;
  body?: StandardSchemaV1;
}

interface Part {
  source: InputSource;
  schema: StandardSchemaV1;
  read(data: HttpRequest): unknown;
  write(data: HttpRequest, value: unknown): void;
  locOf?: (key: string) => string;
}

export interface InputPlan {
  /** Validates the request's inputs and replaces them with the validated values; throws (or rejects with) RequestValidationError. */
  apply(data: HttpRequest): void | Promise<void>;
}

export { headerName };

function propertiesOf(json: Record<string, unknown> | undefined): string[] | undefined {
  const properties = json?.properties as Record<string, unknown> | undefined;
  return properties ? Object.keys(properties) : undefined;
}

/** Undefined when the route declares no inputs: such a route pays nothing. */
export function planInputs(schemas: InputSchemas, where: string): InputPlan | undefined {
  const parts: Part[] = [];
  for (const [key, schema] of Object.entries(schemas)) {
    if (schema === undefined) continue;
    if (!isStandardSchema(schema)) throw new TypeError(`${where}: "${key}" must be a Standard Schema validator (Zod 4, Valibot, ArkType, ...)`);
  }
  const stringly = (schema: StandardSchemaV1): Coercer | undefined => coercerFor(jsonSchemaOf(schema, "input"));
  if (schemas.params) {
    const coerce = stringly(schemas.params);
    parts.push({
      source: "path",
      schema: schemas.params,
      read: (d) => (coerce ? coerce(d.params) : d.params),
      write: (d, v) => (d.params = v as Record<string, string>),
    });
  }
  if (schemas.query) {
    const coerce = stringly(schemas.query);
    parts.push({
      source: "query",
      schema: schemas.query,
      read: (d) => (coerce ? coerce(d.query) : d.query),
      write: (d, v) => (d.query = v as HttpRequest["query"]),
    });
  }
  if (schemas.headers) {
    const coerce = stringly(schemas.headers);
    const keys = propertiesOf(jsonSchemaOf(schemas.headers, "input"));
    const names = keys?.map((key) => [key, headerName(key)] as const);
    parts.push({
      source: "header",
      schema: schemas.headers,
      read: (d) => {
        let raw: Record<string, string | string[] | undefined> = d.headers;
        if (names) {
          raw = {};
          for (const [key, name] of names) raw[key] = d.headers[name];
        }
        return coerce ? coerce(raw) : raw;
      },
      // Declared headers join the others under their declared keys.
      write: (d, v) => (d.headers = { ...d.headers, ...(v as object) }),
      locOf: headerName,
    });
  }
  if (schemas.cookies) {
    const coerce = stringly(schemas.cookies);
    parts.push({
      source: "cookie",
      schema: schemas.cookies,
      read: (d) => {
        const raw = parseCookies(d.headers.cookie as string | undefined);
        return coerce ? coerce(raw) : raw;
      },
      write: (d, v) => (d.cookies = v as Record<string, string>),
    });
  }
  if (schemas.body) {
    // A form's values are strings, coerced like a query string's; a JSON body is taken as it is.
    const coerce = stringly(schemas.body);
    parts.push({
      source: "body",
      schema: schemas.body,
      read: (d) => (coerce && isFormBody(d.body) ? coerce(d.body) : d.body),
      write: (d, v) => (d.body = v),
    });
  }
  if (parts.length === 0) return undefined;

  return { apply: (data) => applyParts(parts, data) };
}

/** Validates every part, keeps the validated values, and throws every issue at once. */
function applyParts(parts: Part[], data: HttpRequest): void | Promise<void> {
  const inputs: unknown[] = [];
  const results: (StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>)[] = [];
  let pending = false;
  for (const part of parts) {
    const input = part.read(data);
    const result = part.schema["~standard"].validate(input);
    inputs.push(input);
    results.push(result);
    if (result instanceof Promise) pending = true;
  }
  const finish = (settled: StandardSchemaV1.Result<unknown>[]) => {
    let issues: ValidationIssue[] | undefined;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const result = settled[i]!;
      if (result.issues) (issues ??= []).push(...toIssues(part.source, result.issues, inputs[i], part.locOf));
      else part.write(data, result.value);
    }
    if (issues) throw new RequestValidationError(issues);
  };
  // Validators with async refinements answer with promises; the usual case stays synchronous.
  if (pending) return Promise.all(results).then(finish);
  return finish(results as StandardSchemaV1.Result<unknown>[]);
}
