// A JSON serialiser compiled from a route's `response` schema: the bytes JSON.stringify would
// write for the validated value, made faster by knowing its shape (json-writer.ts). Only where
// the output is sure to be identical: a Zod schema (its parsed output has exactly the schema's
// keys, in the schema's order, and no others) whose JSON Schema uses plain objects, arrays and
// primitives. Anything
// else (records, tuples, unions of shapes, references, dates, transforms, other libraries) keeps
// the one JSON encoder, json-encoding.ts; so does a value the serialiser cannot write.
import { encodeJson } from "./json-encoding.js";
import { compileWriter } from "./json-writer.js";

export type Serialize = (value: unknown) => string;

type JsonSchema = Record<string, unknown>;

/** What this module reads of a Standard Schema (params/standard-schema.ts): its vendor, and Standard JSON Schema when it has it. */
interface DescribedSchema {
  readonly "~standard": {
    readonly vendor: string;
    readonly jsonSchema?: { output(options: { target: string }): JsonSchema };
  };
}

/** The serialiser of each schema, made once per thread; null where none fits. */
const compiled = new WeakMap<object, Serialize | null>();

/**
 * The compiled serialiser for values validated by `schema`, or undefined when none can promise
 * JSON.stringify's bytes. The first call for a schema compiles it.
 */
export function schemaSerializer(schema: DescribedSchema | undefined): Serialize | undefined {
  if (schema === undefined) return undefined;
  let serialize = compiled.get(schema);
  if (serialize === undefined) {
    serialize = compile(schema);
    compiled.set(schema, serialize);
  }
  return serialize ?? undefined;
}

function compile(schema: DescribedSchema): Serialize | null {
  const standard = schema["~standard"];
  // Zod builds its output from the schema's shape: keys in the schema's order, unknown ones
  // dropped. Another library may keep the input's order, which a serialiser would change.
  if (standard.vendor !== "zod" || typeof standard.jsonSchema?.output !== "function") return null;
  let shape: JsonSchema | undefined;
  try {
    shape = serializable(standard.jsonSchema.output({ target: "draft-2020-12" }));
  } catch {
    return null; // a type JSON Schema cannot describe (a date, a bigint, a transform)
  }
  if (shape === undefined) return null;
  let write: (value: unknown) => string;
  try {
    write = compileWriter(shape);
  } catch {
    return null; // code generation turned off (node --disallow-code-generation-from-strings)
  }
  return (value) => {
    try {
      return write(value);
    } catch {
      // A value of another type than the schema's (never one the schema accepted): the general encoder writes it, or says why not.
      return encodeJson(value);
    }
  };
}

const primitives = new Set(["string", "number", "integer", "boolean", "null"]);

/** Keywords that only validate: the value is valid already, and a serialiser writes it the same without them. */
const validationOnly = new Set([
  "$schema",
  "title",
  "description",
  "examples",
  "default",
  "deprecated",
  "readOnly",
  "writeOnly",
  "enum",
  "const",
  "format",
  "pattern",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minItems",
  "maxItems",
  "uniqueItems",
]);

/**
 * The schema reduced to what decides the JSON text: types, properties, required and items, or
 * undefined when some part could be written otherwise than JSON.stringify writes it.
 */
export function serializable(schema: unknown): JsonSchema | undefined {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return undefined;
  const node = schema as JsonSchema;
  // A nullable object or array: Zod's `anyOf: [X, {type: "null"}]`, as a type list.
  if (Array.isArray(node.anyOf) && Object.keys(node).every((key) => key === "anyOf" || validationOnly.has(key))) return nullable(node.anyOf);
  const { type, properties, required, items, additionalProperties, ...rest } = node;
  if (!Object.keys(rest).every((key) => validationOnly.has(key))) return undefined;
  if (typeof type === "string" && primitives.has(type) && properties === undefined && items === undefined) return { type };
  if (Array.isArray(type)) {
    if (type.length === 0 || !type.every((t) => typeof t === "string" && primitives.has(t)) || properties !== undefined || items !== undefined)
      return undefined;
    return { type: [...type] };
  }
  if (type === "array" && properties === undefined) {
    const item = serializable(items);
    return item && { type, items: item };
  }
  // Only closed objects: the serialiser writes the listed properties and drops any other.
  if (type === "object" && items === undefined && additionalProperties === false && properties !== null && typeof properties === "object") {
    const out: Record<string, JsonSchema> = {};
    for (const [key, value] of Object.entries(properties)) {
      const property = serializable(value);
      if (property === undefined) return undefined;
      out[key] = property;
    }
    const requiredKeys = Array.isArray(required) ? required.filter((key): key is string => typeof key === "string") : [];
    return { type, properties: out, required: requiredKeys, additionalProperties: false };
  }
  return undefined;
}

function nullable(options: unknown[]): JsonSchema | undefined {
  if (options.length !== 2) return undefined;
  const nullAt = options.findIndex((option) => option !== null && typeof option === "object" && (option as JsonSchema).type === "null");
  if (nullAt < 0 || Object.keys(options[nullAt] as JsonSchema).length !== 1) return undefined;
  const other = serializable(options[1 - nullAt]);
  if (other === undefined || typeof other.type !== "string" || other.type === "null") return undefined;
  return { ...other, type: [other.type, "null"] };
}
