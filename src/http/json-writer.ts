// Writes JSON for values of one known shape (a JSON Schema reduced by schema-serializer.ts to
// objects, arrays and primitives): generated code that reads each declared field by name and
// writes its known key, instead of JSON.stringify discovering the shape of every object it
// meets. The bytes are JSON.stringify's: strings quoted as it quotes them, numbers written as
// it writes them, properties in the schema's order, undefined ones left out. A value of another
// type than declared makes the writer throw, so its caller can fall back to the JSON encoder.

type JsonSchema = Record<string, unknown>;

/** Compiles the writer of `shape` (as serializable() returns it); the result throws on a value of another shape. */
export function compileWriter(shape: JsonSchema): (value: unknown) => string {
  const functions: string[] = [];
  const define = (body: string[]): string => {
    const name = `w${functions.length}`;
    functions.push(`function ${name}(v) {\n  ${body.join("\n  ")}\n}`);
    return name;
  };

  /** A JavaScript expression that is the JSON text of the variable `v`. */
  const expression = (node: JsonSchema, v: string): string => {
    switch (node.type) {
      case "string":
        return `(typeof ${v} === "string" ? quote(${v}) : mismatch())`;
      case "number":
      case "integer":
        // x - x is 0 for finite numbers only: NaN and ±Infinity are not JSON numbers.
        return `(typeof ${v} === "number" && ${v} - ${v} === 0 ? "" + ${v} : mismatch())`;
      case "boolean":
        return `(${v} === true ? "true" : ${v} === false ? "false" : mismatch())`;
      case "null":
        return `(${v} === null ? "null" : mismatch())`;
      default:
        return `${define(writerBody(node))}(${v})`;
    }
  };

  /** The statements of a function writing `v`: an object, an array, or one of a list of types. */
  const writerBody = (node: JsonSchema): string[] => {
    const types = Array.isArray(node.type) ? (node.type as string[]) : [node.type as string];
    const body = types.includes("null") ? [`if (v === null) return "null";`] : [];
    if (types.includes("object")) return [...body, ...objectBody(node.properties as Record<string, JsonSchema>, new Set(node.required as string[]))];
    if (types.includes("array")) return [...body, ...arrayBody(node.items as JsonSchema)];
    if (types.includes("string")) body.push(`if (typeof v === "string") return quote(v);`);
    if (types.includes("number") || types.includes("integer")) body.push(`if (typeof v === "number" && v - v === 0) return "" + v;`);
    if (types.includes("boolean")) body.push(`if (typeof v === "boolean") return v ? "true" : "false";`);
    return [...body, "return mismatch();"];
  };

  const objectBody = (properties: Record<string, JsonSchema>, required: Set<string>): string[] => {
    const body = [`if (typeof v !== "object" || v === null || Array.isArray(v)) return mismatch();`, `let s = "{";`];
    // Whether a property is written before this one whatever the value: then no comma needs checking.
    let written = false;
    // In the order JavaScript lists an object's keys (index-like keys first, ascending), which is
    // the order of JSON.stringify and of Zod's output alike.
    Object.entries(properties).forEach(([key, property], i) => {
      const name = `p${i}`;
      body.push(`const ${name} = v[${JSON.stringify(key)}];`);
      const head = `${JSON.stringify(key)}:`;
      const lead = written ? JSON.stringify(`,${head}`) : `(s.length > 1 ? "," : "") + ${JSON.stringify(head)}`;
      // JSON.stringify leaves out a property whose value is undefined; a required one is checked by its expression.
      if (required.has(key)) {
        body.push(`s += ${lead} + ${expression(property, name)};`);
        written = true;
      } else body.push(`if (${name} !== undefined) s += ${lead} + ${expression(property, name)};`);
    });
    return [...body, `return s + "}";`];
  };

  const arrayBody = (items: JsonSchema): string[] => [
    `if (!Array.isArray(v)) return mismatch();`,
    `const n = v.length;`,
    `if (n === 0) return "[]";`,
    `const x0 = v[0];`,
    `let s = "[" + ${expression(items, "x0")};`,
    `for (let i = 1; i < n; i++) {`,
    `  const x = v[i];`,
    `  s += "," + ${expression(items, "x")};`,
    `}`,
    `return s + "]";`,
  ];

  const root = define(["return " + expression(shape, "v") + ";"]);
  // The code is made from the schema's key names, each written as a JSON string literal.
  return new Function("mismatch", "quote", `"use strict";\n${functions.join("\n")}\nreturn ${root};`)(mismatch, quote) as (value: unknown) => string;
}

/** Characters JSON.stringify escapes in a string: controls, the quote, the backslash, and (lone) surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what JSON escapes.
const escaped = /[\u0000-\u001f"\\\ud800-\udfff]/;

/**
 * A string as JSON.stringify writes it. Most strings in an API's answer need no escape: seen to
 * be so, they are quoted as they are, which costs less than a call into JSON.stringify; any
 * other goes to it.
 */
function quote(text: string): string {
  const length = text.length;
  if (length < 42) {
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code < 32 || code === 34 || code === 92 || (code >= 0xd800 && code <= 0xdfff)) return JSON.stringify(text);
    }
    return `"${text}"`;
  }
  return length < 5000 && !escaped.test(text) ? `"${text}"` : JSON.stringify(text);
}

function mismatch(): never {
  throw new TypeError("the value does not have the schema's shape");
}
