// How a value becomes JSON, on every lane and for every JSON body (a handler's return value,
// json(), an error's detail, Server-Sent Events, JSON Lines, WebSocket sendJson): FastAPI's
// `jsonable_encoder` for JavaScript's types. Plain data goes to JSON.stringify as it is; what
// JSON.stringify would get silently wrong (a Map as {}, a Buffer as {"type":"Buffer",...}, a
// class's getters dropped, a bigint thrown) is encoded as stated below, or refused with the path
// of the value:
//
//   Map → object (string, number, bigint or boolean keys)   Set → array
//   bigint → string of its digits                           Uint8Array, Buffer, ArrayBuffer, DataView → base64 string
//   other typed arrays → array of numbers                   Date, URL, anything with toJSON() → what toJSON() gives
//   class instance → its own fields and its class's getters undefined in an array → null (a field: left out)
//   RegExp → its source text, /a+/g
//   refused: functions, symbols, promises, errors, NaN and ±Infinity, cycles, Map keys that are objects,
//   class instances with no field or getter to show

import { describe, propertyPath } from "../threads/clone-check.js";

/** A value that has no JSON form: where it sits (`.items[2].price`) and why. */
export class JsonEncodingError extends TypeError {
  override readonly name = "JsonEncodingError";
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${reason} at ${path || "the top level"} has no JSON form${hint(reason)}`);
  }
}

/** JSON text for `value` (`"null"` for undefined), by the rules above; throws JsonEncodingError. */
export function encodeJson(value: unknown): string {
  const encoded = isPlain(value, 0) ? value : jsonable(value, "", new Set());
  return JSON.stringify(encoded) ?? "null";
}

const objectPrototype = Object.prototype;
const arrayPrototype = Array.prototype;
/** Deeper than this the fast check stops and the full encoder (which tracks cycles) takes over. */
const plainDepth = 64;

/**
 * Whether JSON.stringify would encode `value` faithfully: only plain objects and arrays, strings,
 * finite numbers, booleans and null (undefined only as an object's field). The common case, kept
 * cheap: one pass with no allocation.
 */
function isPlain(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object": {
      if (value === null) return true;
      if (depth > plainDepth) return false;
      const prototype = Object.getPrototypeOf(value);
      if (prototype === arrayPrototype) {
        const list = value as unknown[];
        for (let i = 0; i < list.length; i++) if (list[i] === undefined || !isPlain(list[i], depth + 1)) return false;
        return true;
      }
      if ((prototype !== objectPrototype && prototype !== null) || "toJSON" in value) return false;
      for (const key in value) {
        const field = (value as Record<string, unknown>)[key];
        if (field !== undefined && !isPlain(field, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** Nested deeper than this, a value is refused rather than risk the stack (JSON.stringify's own limit is the stack). */
const maxDepth = 1000;

/** The value JSON.stringify should see in place of `value`. `ancestors` catches cycles. */
function jsonable(value: unknown, path: string, ancestors: Set<object>): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "undefined":
      return null;
    case "number":
      if (!Number.isFinite(value)) throw new JsonEncodingError(path, String(value));
      return value;
    case "bigint":
      return value.toString();
    case "function":
      throw new JsonEncodingError(path, `a function${value.name ? ` (${value.name})` : ""}`);
    case "symbol":
      throw new JsonEncodingError(path, "a symbol");
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.has(object)) throw new JsonEncodingError(path, "a reference to one of its own containers (a cycle)");
  if (ancestors.size >= maxDepth) throw new JsonEncodingError(path.slice(0, 40) + "…", `a value nested deeper than ${maxDepth} levels`);
  ancestors.add(object);
  try {
    return jsonableObject(object, path, ancestors);
  } finally {
    ancestors.delete(object);
  }
}

function jsonableObject(value: object, path: string, ancestors: Set<object>): unknown {
  // Before toJSON(): a Buffer's own would give {"type":"Buffer","data":[...]}.
  if (value instanceof Uint8Array || value instanceof DataView)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return jsonable((value as { toJSON(key: string): unknown }).toJSON(""), path, ancestors);
  }
  if (Array.isArray(value)) return value.map((item, i) => jsonable(item, `${path}[${i}]`, ancestors));
  if (value instanceof ArrayBuffer) return Buffer.from(value).toString("base64");
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number | bigint>, (n, i) => jsonable(n, `${path}[${i}]`, ancestors));
  if (value instanceof Map) return jsonableMap(value, path, ancestors);
  if (value instanceof Set) return [...value].map((item, i) => jsonable(item, `${path}[${i}]`, ancestors));
  if (value instanceof RegExp) return String(value);
  if (value instanceof Promise) throw new JsonEncodingError(path, "a Promise");
  if (value instanceof Error) throw new JsonEncodingError(path, `an Error (${value.name}: ${value.message})`);
  if (value instanceof WeakMap || value instanceof WeakSet) throw new JsonEncodingError(path, `a ${value.constructor.name}`);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== undefined) out[key] = jsonable(field, `${path}${propertyPath(key)}`, ancestors);
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype === objectPrototype || prototype === null) return out;
  // A class instance: its fields, and what its class's getters show (a computed property).
  let shown = Object.keys(out).length > 0;
  for (const [key, read] of classGetters(prototype)) {
    if (key in out) continue;
    shown = true;
    let field: unknown;
    try {
      field = read.call(value);
    } catch (error) {
      throw new JsonEncodingError(`${path}${propertyPath(key)}`, `a getter that threw (${(error as Error)?.message ?? String(error)})`);
    }
    if (field !== undefined) out[key] = jsonable(field, `${path}${propertyPath(key)}`, ancestors);
  }
  if (!shown) throw new JsonEncodingError(path, `${describe(value)} with no field or getter to show`);
  return out;
}

function jsonableMap(map: Map<unknown, unknown>, path: string, ancestors: Set<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let i = 0;
  for (const [key, entry] of map) {
    if (!["string", "number", "bigint", "boolean"].includes(typeof key)) {
      throw new JsonEncodingError(`${path}.keys()[${i}]`, `a Map key of type ${key === null ? "null" : typeof key} (JSON object keys are strings)`);
    }
    out[String(key)] = jsonable(entry, `${path}${propertyPath(String(key))}`, ancestors);
    i++;
  }
  return out;
}

/** Getters defined by the classes of an instance, nearest class first (Object.prototype's excluded). */
function classGetters(prototype: object): [string, () => unknown][] {
  const getters: [string, () => unknown][] = [];
  const seen = new Set<string>();
  for (let p: object | null = prototype; p !== null && p !== objectPrototype; p = Object.getPrototypeOf(p)) {
    for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (seen.has(key)) continue;
      seen.add(key);
      if (descriptor.get) getters.push([key, descriptor.get]);
    }
  }
  return getters;
}

function hint(reason: string): string {
  if (reason.startsWith("a Promise")) return ": await it before returning it";
  if (reason.startsWith("NaN") || reason.endsWith("Infinity")) return " (FastAPI refuses it too): return null or a string instead";
  if (reason.includes("with no field or getter")) return ": give its class a toJSON() method, or return plain data";
  return ": return plain data (or give the object a toJSON() method)";
}
