// Named schemas as OpenAPI components: what a validator names by its own metadata (Zod 4's
// `.meta({ id })` or its global registry) goes to `components.schemas` once and is used through
// `$ref`, so generators (openapi-typescript, orval) make a named type of each. As FastAPI does,
// a schema that reads differently as input and as output gets two names, `Id-Input` and
// `Id-Output`; one whose only difference is refusing unknown keys on output keeps one name.
import { namedJsonSchemaOf, type StandardSchemaV1 } from "../params/standard-schema.js";

type JsonObject = Record<string, unknown>;
type Io = "input" | "output";

const defsPrefix = "#/$defs/";
const componentsPrefix = "#/components/schemas/";
/** Until the names are settled, a ref says which side it was made for. */
const pending = (io: Io, id: string) => `${componentsPrefix}~${io}~${id}`;

export class SchemaComponents {
  private readonly found: Record<Io, Map<string, JsonObject>> = { input: new Map(), output: new Map() };
  /** Each component as its library gave it, to tell a schema seen again from another one of the same id. */
  private readonly given: Record<Io, Map<string, string>> = { input: new Map(), output: new Map() };

  /** The JSON Schema of `schema` as a part of the document: its named parts as refs to components. */
  use(schema: StandardSchemaV1, io: Io): JsonObject | undefined {
    const json = namedJsonSchemaOf(schema, io);
    if (!json) return undefined;
    const { $defs, ...root } = json;
    const defs = Object.entries(($defs ?? {}) as Record<string, JsonObject>);
    // Two different schemas of one id on different routes (one conversion refuses that itself): the later gets `Id_2`.
    const ids = new Map<string, string>();
    for (const [id, def] of defs) {
      const text = JSON.stringify(def);
      let name = id;
      for (let n = 2; this.given[io].has(name) && this.given[io].get(name) !== text; n++) name = `${id}_${n}`;
      ids.set(id, name);
    }
    for (const [id, def] of defs) {
      const name = ids.get(id)!;
      if (this.given[io].has(name)) continue;
      this.given[io].set(name, JSON.stringify(def));
      this.found[io].set(name, retarget(def, io, ids) as JsonObject);
    }
    return retarget(root, io, ids) as JsonObject;
  }

  /** A schema with its root ref followed: parameters are read from its properties. */
  resolve(json: JsonObject | undefined): JsonObject | undefined {
    const ref = json?.$ref;
    if (typeof ref !== "string" || !ref.startsWith(componentsPrefix)) return json;
    const [, io, id] = /^~(input|output)~(.*)$/s.exec(ref.slice(componentsPrefix.length)) ?? [];
    return (io && id !== undefined ? this.found[io as Io].get(id) : undefined) ?? json;
  }

  /** Names every component, points each ref of `document` at its name, and returns `components.schemas`. */
  finish(document: JsonObject, reserved: JsonObject): JsonObject {
    const names = new Map<string, string>();
    const schemas: JsonObject = { ...reserved };
    const ids = new Set([...this.found.input.keys(), ...this.found.output.keys()]);
    const free = (wanted: string) => {
      let name = wanted.replace(/[^A-Za-z0-9._-]/g, "_") || "Schema";
      for (let n = 2; name in schemas; n++) name = `${wanted.replace(/[^A-Za-z0-9._-]/g, "_")}${n}`;
      return name;
    };
    for (const id of [...ids].sort()) {
      const input = this.found.input.get(id);
      const output = this.found.output.get(id);
      if (input && output && !sameSchema(input, output)) {
        const inName = free(`${id}-Input`);
        schemas[inName] = input;
        const outName = free(`${id}-Output`);
        schemas[outName] = output;
        names.set(pending("input", id), inName).set(pending("output", id), outName);
      } else {
        const name = free(id);
        schemas[name] = input ?? output;
        names.set(pending("input", id), name).set(pending("output", id), name);
      }
    }
    const settle = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(settle);
      if (value === null || typeof value !== "object") return value;
      const out: JsonObject = {};
      for (const [key, item] of Object.entries(value)) {
        out[key] = key === "$ref" && typeof item === "string" && names.has(item) ? componentsPrefix + names.get(item) : settle(item);
      }
      return out;
    };
    Object.assign(document, settle(document));
    return reachable(settle(schemas) as JsonObject, document, Object.keys(reserved));
  }
}

/** Every `#/$defs/Id` ref made a pending component ref (under the name `ids` gives it). */
function retarget(value: unknown, io: Io, ids: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => retarget(item, io, ids));
  if (value === null || typeof value !== "object") return value;
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === "$ref" && typeof item === "string" && item.startsWith(defsPrefix)) {
      const id = item.slice(defsPrefix.length);
      out[key] = pending(io, ids.get(id) ?? id);
    } else out[key] = retarget(item, io, ids);
  }
  return out;
}

/** The same schema, but for an output that refuses unknown keys (which a valid output never has). */
function sameSchema(input: JsonObject, output: JsonObject): boolean {
  return withoutClosedObjects(input).replaceAll("/~input~", "/") === withoutClosedObjects(output).replaceAll("/~output~", "/");
}

function withoutClosedObjects(schema: JsonObject): string {
  return JSON.stringify(schema, (key, value) => (key === "additionalProperties" && value === false ? undefined : value));
}

/** The components the document uses (a named query schema is spread into parameters, never referenced): unused ones are left out. */
function reachable(schemas: JsonObject, document: JsonObject, kept: string[]): JsonObject {
  const refsIn = (value: unknown) => [...JSON.stringify(value).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
  const used = new Set(kept);
  const queue = refsIn(document);
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (used.has(name) || !(name in schemas)) continue;
    used.add(name);
    queue.push(...refsIn(schemas[name]));
  }
  return Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
}
