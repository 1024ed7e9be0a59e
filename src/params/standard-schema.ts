// The Standard Schema v1 interface (standardschema.dev), the contract Zod 4, Valibot and ArkType
// all implement. The spec asks libraries to copy these types rather than depend on a package.

/** A validator of any library that implements Standard Schema v1. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly "~standard": StandardSchemaV1.Props<Input, Output>;
}

export declare namespace StandardSchemaV1 {
  interface Props<Input = unknown, Output = Input> {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>;
    readonly types?: Types<Input, Output> | undefined;
    /** Standard JSON Schema (optional): what OpenAPI and query coercion are built from. */
    readonly jsonSchema?: JsonSchemaConverter | undefined;
  }
  type Result<Output> = SuccessResult<Output> | FailureResult;
  interface SuccessResult<Output> {
    readonly value: Output;
    readonly issues?: undefined;
  }
  interface FailureResult {
    readonly issues: ReadonlyArray<Issue>;
  }
  interface Issue {
    readonly message: string;
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  interface PathSegment {
    readonly key: PropertyKey;
  }
  interface Types<Input = unknown, Output = Input> {
    readonly input: Input;
    readonly output: Output;
  }
  interface JsonSchemaConverter {
    readonly input: (options: { readonly target: string }) => Record<string, unknown>;
    readonly output: (options: { readonly target: string }) => Record<string, unknown>;
  }
  type InferInput<Schema extends StandardSchemaV1> = NonNullable<Schema["~standard"]["types"]>["input"];
  type InferOutput<Schema extends StandardSchemaV1> = NonNullable<Schema["~standard"]["types"]>["output"];
}

export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const props = (value as StandardSchemaV1 | undefined)?.["~standard"];
  return typeof props === "object" && props !== null && props.version === 1 && typeof props.validate === "function";
}

/**
 * The JSON Schema (2020-12, what OpenAPI 3.1 uses) of what a validator accepts or produces,
 * or undefined when its library offers none. Zod 4 answers through Standard JSON Schema.
 */
export function jsonSchemaOf(schema: StandardSchemaV1, io: "input" | "output"): Record<string, unknown> | undefined {
  const json = namedJsonSchemaOf(schema, io);
  return json && inlineRoot(json);
}

/**
 * The JSON Schema as its library gives it: a schema named by its metadata (Zod's `.meta({ id })`)
 * is a `$ref` into `$defs`, where its named parts are too (what OpenAPI turns into components).
 */
export function namedJsonSchemaOf(schema: StandardSchemaV1, io: "input" | "output"): Record<string, unknown> | undefined {
  const converter = schema["~standard"].jsonSchema;
  if (!converter) return undefined;
  try {
    const json = { ...converter[io]({ target: "draft-2020-12" }) };
    delete json.$schema;
    return json;
  } catch {
    return undefined;
  }
}

/** A root that is only a `$ref` into its own `$defs` (a named schema), replaced by what it points at: its properties are read. */
function inlineRoot(json: Record<string, unknown>): Record<string, unknown> {
  const ref = json.$ref;
  const defs = json.$defs as Record<string, Record<string, unknown>> | undefined;
  if (typeof ref !== "string" || !ref.startsWith("#/$defs/") || !defs) return json;
  const target = defs[ref.slice("#/$defs/".length)];
  return target ? { ...target, $defs: defs } : json;
}
