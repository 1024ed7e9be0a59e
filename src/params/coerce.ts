// Strings from the URL and headers, turned into what the route's schema expects *before* it
// validates, as FastAPI does from type hints: `?limit=10` → 10 for a number field,
// `?done=true` → true, `?tag=a&tag=b` → ["a", "b"] (and `?tag=a` → ["a"]) for an array field.
// The plan comes from the schema's JSON Schema, built once when the route is registered.

type Kind = "number" | "integer" | "boolean" | "string" | "other";
interface FieldPlan {
  array: boolean;
  item: Kind;
}

/** A function that prepares raw string values for validation, or undefined if none need it. */
export type Coercer = (raw: Record<string, string | string[] | undefined>) => Record<string, unknown>;

export function coercerFor(objectSchema: Record<string, unknown> | undefined): Coercer | undefined {
  const properties = objectSchema?.properties as Record<string, Record<string, unknown>> | undefined;
  if (!properties) return undefined;
  const plans = new Map<string, FieldPlan>();
  for (const [name, schema] of Object.entries(properties)) {
    const kind = kindOf(schema);
    if (kind === "array") plans.set(name, { array: true, item: kindOf(schema.items as Record<string, unknown> | undefined) as Kind });
    else plans.set(name, { array: false, item: kind });
  }
  const fields = [...plans];
  return (raw) => {
    const out = copyOwn(raw);
    for (const [name, plan] of fields) {
      const value = raw[name];
      if (value === undefined) continue;
      if (plan.array) out[name] = (Array.isArray(value) ? value : [value]).map((v) => scalar(v, plan.item));
      // A repeated key for a single value: the last one wins, as in FastAPI.
      else out[name] = scalar(Array.isArray(value) ? value[value.length - 1]! : value, plan.item);
    }
    return out;
  };
}

function kindOf(schema: Record<string, unknown> | undefined): Kind | "array" {
  if (!schema) return "other";
  let type = schema.type;
  if (Array.isArray(type)) type = type.find((t) => t !== "null");
  if (type === undefined) {
    const options = (schema.anyOf ?? schema.oneOf) as Record<string, unknown>[] | undefined;
    const first = options?.map(kindOf).find((k) => k !== "other");
    return first ?? "other";
  }
  if (type === "number" || type === "integer" || type === "boolean" || type === "string" || type === "array") return type;
  return "other";
}

const truthy = new Set(["true", "1", "yes", "on"]);
const falsy = new Set(["false", "0", "no", "off"]);

/** Converts what clearly parses; anything else stays a string so the validator reports it. */
function scalar(value: string, kind: Kind): unknown {
  switch (kind) {
    case "number":
    case "integer": {
      const trimmed = value.trim();
      const n = Number(trimmed);
      return trimmed !== "" && Number.isFinite(n) ? n : value;
    }
    case "boolean": {
      const lower = value.toLowerCase();
      return truthy.has(lower) ? true : falsy.has(lower) ? false : value;
    }
    default:
      return value;
  }
}

/**
 * A plain copy of a (null-prototype) query or header record. Spreading a dictionary-mode object
 * costs four times as much as this loop; `__proto__` is defined, never assigned, so a request
 * cannot change the copy's prototype.
 */
function copyOwn(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in raw) {
    if (key === "__proto__") Object.defineProperty(out, key, { value: raw[key], enumerable: true, writable: true, configurable: true });
    else out[key] = raw[key];
  }
  return out;
}
