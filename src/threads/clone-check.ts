// What would not survive a copy between threads intact. Structured cloning keeps plain data,
// but turns a class instance (a database connection, a client) into a bare object without its
// methods, prototype getters or private state, and refuses functions outright. Checked where
// the value is made, before it crosses, so the error can name what it is and where it sits.

/** A value that would arrive changed: where it sits in the value, and what it is. */
export interface CloneProblem {
  /** `(the value)`, or a path into it such as `.user.avatar` or `[2]`. */
  path: string;
  /** `a Database`, `a function`, `a Promise`... */
  what: string;
  /** What the copy would turn it into; undefined when the copy refuses it (a function, a symbol). */
  becomes?: string;
}

/** "a Database at .db, which would reach the caller as a plain object without its methods and getters". */
export function explainProblem(problem: CloneProblem, side: string): string {
  const where = problem.path === "(the value)" ? "" : ` at ${problem.path}`;
  const fate = problem.becomes ? `which would reach ${side} as ${problem.becomes}` : "which cannot be copied to another thread at all";
  return `${problem.what}${where}, ${fate}`;
}

/** The prototypes of what structured cloning copies as it is. */
const cloned = new Set<unknown>(
  [
    Object.prototype,
    Array.prototype,
    Date.prototype,
    RegExp.prototype,
    Map.prototype,
    Set.prototype,
    ArrayBuffer.prototype,
    globalThis.SharedArrayBuffer?.prototype,
    DataView.prototype,
    Boolean.prototype,
    Number.prototype,
    String.prototype,
    Int8Array.prototype,
    Uint8Array.prototype,
    Uint8ClampedArray.prototype,
    Int16Array.prototype,
    Uint16Array.prototype,
    Int32Array.prototype,
    Uint32Array.prototype,
    Float32Array.prototype,
    Float64Array.prototype,
    BigInt64Array.prototype,
    BigUint64Array.prototype,
    globalThis.Blob?.prototype,
    globalThis.File?.prototype,
  ].filter((prototype) => prototype !== undefined),
);

/** Past this many nodes the rest is left to the copy itself: a check must not cost more than the copy. */
const maxNodes = 10_000;

/** The first part of `value` a copy between threads would change or refuse, or undefined if it crosses intact. */
export function cloneProblem(value: unknown): CloneProblem | undefined {
  const seen = new Set<object>();
  const pending: [unknown, string][] = [[value, ""]];
  for (let node = pending.pop(); node !== undefined && seen.size < maxNodes; node = pending.pop()) {
    const [item, path] = node;
    if (typeof item === "function") return { path: pathOf(path), what: describe(item) };
    if (typeof item === "symbol") return { path: pathOf(path), what: "a symbol" };
    if (item === null || typeof item !== "object" || seen.has(item)) continue;
    seen.add(item);
    if (item instanceof Error) continue; // copied as its class, message and stack
    const prototype = Object.getPrototypeOf(item);
    if (prototype !== null && !cloned.has(prototype)) {
      const becomes = item instanceof Promise ? "an empty object (await it first)" : `a plain ${kindOf(item)} without its methods and getters`;
      return { path: pathOf(path), what: describe(item), becomes };
    }
    if (item instanceof Map) {
      let i = 0;
      for (const [key, entry] of item) {
        pending.push([key, `${path}.keys()[${i}]`], [entry, `${path}.get(${typeof key === "string" ? JSON.stringify(key) : i})`]);
        i++;
      }
    } else if (item instanceof Set) {
      let i = 0;
      for (const entry of item) pending.push([entry, `${path}.values()[${i++}]`]);
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) pending.push([item[i], `${path}[${i}]`]);
    } else if (!ArrayBuffer.isView(item) && !(item instanceof ArrayBuffer)) {
      const keys = Object.keys(item);
      for (let i = keys.length - 1; i >= 0; i--) pending.push([(item as Record<string, unknown>)[keys[i]!], `${path}${propertyPath(keys[i]!)}`]);
    }
  }
  return undefined;
}

/** "a Database", "an instance of an anonymous class", "a function (connect)". */
export function describe(value: unknown): string {
  if (typeof value === "function") return value.name ? `a function (${value.name})` : "a function";
  const name = (value as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === "string" && name !== "" ? `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}` : "an instance of an anonymous class";
}

function kindOf(value: object): string {
  if (Array.isArray(value)) return "array";
  if (value instanceof Map) return "Map";
  if (value instanceof Set) return "Set";
  if (ArrayBuffer.isView(value)) return (Object.getPrototypeOf(Object.getPrototypeOf(value)) as { constructor: { name: string } }).constructor.name;
  return "object";
}

/** `.name`, or `["odd key"]`: how a key reads in a path into a value. */
export function propertyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function pathOf(path: string): string {
  return path === "" ? "(the value)" : path;
}
