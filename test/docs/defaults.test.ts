// The defaults the reference quotes are the ones src/server/config.ts resolves: the serve()
// options, the TestClient's and the `loopwise run` flags. A default changed in one place and not
// the other fails here.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { defaults } from "../../src/server/config.ts";
import { root } from "./markdown.ts";

const reference = readFileSync(join(root, "docs/reference.md"), "utf8");

/** The rows of the Markdown table whose header line is `header`: first cell (without backticks) → second cell. */
function table(header: string, after = 0): Map<string, string> {
  const lines = reference.slice(reference.indexOf(header, after)).split("\n");
  assert.ok(lines[0]!.startsWith(header), `docs/reference.md has no table "${header}"`);
  const rows = new Map<string, string>();
  for (const line of lines.slice(2)) {
    if (!line.startsWith("|")) break;
    const [name, value] = line
      .split(/(?<!\\)\|/)
      .slice(1)
      .map((cell) => cell.trim());
    rows.set(name!.replace(/`/g, ""), value!);
  }
  return rows;
}

/** The first `code` in a cell: the value it quotes. */
const quoted = (cell: string) => /`([^`]*)`/.exec(cell)?.[1];

/** What a default looks like quoted: strings in quotes in the options tables, bare on the command line. */
function shown(value: unknown, bare: boolean): string {
  if (typeof value === "string") return bare ? value : JSON.stringify(value);
  return String(value);
}

/** The max pool size depends on the cores: the cell quotes its floor (few cores) first, and names its ceiling. */
function checkMaxPoolSize(cell: string, where: string): void {
  const floor = defaults.maxPoolSize(1, 1);
  const ceiling = defaults.maxPoolSize(1, 100_000);
  assert.equal(quoted(cell), String(floor), `docs/reference.md quotes ${where}'s default as ${cell}`);
  assert.ok(cell.includes(`\`${ceiling}\``), `docs/reference.md gives ${where} no ceiling of ${ceiling}: ${cell}`);
}

const scalar = (value: unknown) => ["string", "number", "boolean"].includes(typeof value);

/**
 * Compares each row of a table with the default of its option (`optionOf` names it from the
 * row's first cell); strings are quoted in the options tables, bare on the command line. Returns
 * the rows compared: those whose option has a default in config.ts that a cell can quote.
 */
function compare(rows: Map<string, string>, optionOf: (first: string) => string, bare: boolean): string[] {
  const checked: string[] = [];
  for (const [first, cell] of rows) {
    const option = optionOf(first);
    const value = (defaults as Record<string, unknown>)[option];
    if (option === "maxPoolSize") checkMaxPoolSize(cell, first);
    else if (scalar(value)) assert.equal(quoted(cell), shown(value, bare), `docs/reference.md quotes ${first}'s default as ${cell}`);
    else continue;
    checked.push(first);
  }
  return checked;
}

test("every default the serve() options table quotes is config.ts's", () => {
  const checked = compare(table("| option | default | CLI flag |"), (name) => name, false);
  // Enough rows were compared for the test to mean something.
  assert.ok(checked.length >= 15, `only ${checked.join(", ")} compared`);
});

test("the TestClient's defaults in the reference are config.ts's", () => {
  const rows = table("| option | default | |", reference.indexOf("## `TestClient`"));
  assert.equal(quoted(rows.get("poolSize")!), String(defaults.testPoolSize));
  assert.equal(quoted(rows.get("bodyLimit")!), String(defaults.bodyLimit));
  assert.equal(quoted(rows.get("jsonDepthLimit")!), String(defaults.jsonDepthLimit));
});

test("every default the `loopwise run` flags table quotes is config.ts's", () => {
  // `--max-queue-wait MS` is maxQueueWait; the flags whose option is named otherwise are listed.
  const named: Record<string, string> = { "--block-threshold": "blockThresholdMs" };
  const optionOf = (flag: string) => {
    const name = flag.split(" ")[0]!;
    return named[name] ?? name.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  };
  const checked = compare(table("| `run` flag | default | |"), optionOf, true);
  assert.ok(checked.length >= 10, `only ${checked.join(", ")} compared`);
});
