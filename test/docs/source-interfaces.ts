// The option names the reference must document, read from the interfaces in src/ (with the
// interfaces they extend), so a new option without a line in docs/reference.md fails a test.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./markdown.ts";

let sources: string[] | undefined;

function sourceFiles(): string[] {
  return (sources ??= readdirSync(join(root, "src"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => readFileSync(join(root, "src", f), "utf8")));
}

/** The property names of `export interface name`, including those of the interfaces it extends. */
export function interfaceFields(name: string): string[] {
  for (const source of sourceFiles()) {
    const start = new RegExp(`export interface ${name}(?:<[^>{]*>)?(?: extends ([^{]+))? \\{`).exec(source);
    if (!start) continue;
    const fields: string[] = [];
    let depth = 1;
    for (const line of source.slice(start.index + start[0].length).split("\n")) {
      const field = depth === 1 ? /^\s*(?:readonly\s+)?(\w+)\??:/.exec(line) : null;
      if (field) fields.push(field[1]!);
      depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
      if (depth <= 0) break;
    }
    const parents = (start[1] ?? "")
      .split(",")
      .map((p) => p.trim().replace(/<.*$/, ""))
      .filter(Boolean);
    return [...fields, ...parents.flatMap(interfaceFields)];
  }
  assert.fail(`no "export interface ${name}" under src/`);
}
