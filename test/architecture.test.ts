// The folders of src/ form floors: each imports only from the floors below it (value or type
// imports alike), so the vocabulary never depends on the orchestration, and the pool never on HTTP.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const src = fileURLToPath(new URL("../src/", import.meta.url));

/**
 * Lowest first. The pool knows no HTTP; `log` (the app's logger) and `tracing` (OpenTelemetry's
 * API) serve every floor above; `http` is the vocabulary every floor above speaks;
 * `lanes`, the crossing between the loop and a worker thread or process, sits right below `app`.
 */
const floors = [
  "pool",
  "log",
  "tracing",
  "threads",
  "monitor",
  "http",
  "params",
  "deps",
  "security",
  "lanes",
  "app",
  "client",
  "middleware",
  "openapi",
  "queue",
  "server",
  "testing",
  "check",
  "cli",
];

function filesOf(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesOf(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)].map((m) => m[1]!);
  return specifiers.map((s) => resolve(dirname(file), s));
}

const floorOf = (path: string) => relative(src, path).split("/")[0]!;

test("every folder of src/ is a known floor", () => {
  const folders = readdirSync(src).filter((name) => statSync(join(src, name)).isDirectory());
  assert.deepEqual(
    folders.filter((f) => !floors.includes(f)),
    [],
  );
});

test("imports point down the floors only, never up or sideways into a cycle", () => {
  const upward: string[] = [];
  for (const file of filesOf(src)) {
    const from = floorOf(file);
    if (!floors.includes(from)) continue; // src/index.ts, the package entry, may import any floor
    for (const target of importsOf(file)) {
      const to = floorOf(target);
      if (floors.indexOf(to) > floors.indexOf(from)) upward.push(`${relative(src, file)} imports ${relative(src, target)} (${from} → ${to})`);
    }
  }
  assert.deepEqual(upward, []);
});

test("the pool and the crossing know nothing of HTTP framing: no socket, no server", () => {
  const framing = /(?:from|import)\s*\(?\s*"node:(?:http|https|http2|net|tls)"/;
  const offenders = ["pool", "lanes"].flatMap((floor) => filesOf(join(src, floor)).filter((file) => framing.test(readFileSync(file, "utf8"))));
  assert.deepEqual(
    offenders.map((file) => relative(src, file)),
    [],
  );
});

test("the pool's policy is pure: no thread, timer, clock or Node module; only its own folder and the pool's option types", () => {
  const policy = join(src, "pool/policy");
  const impure: string[] = [];
  for (const file of filesOf(policy)) {
    const text = readFileSync(file, "utf8");
    const name = relative(src, file);
    for (const m of text.matchAll(/from\s+"([^"]+)"/g)) {
      const specifier = m[1]!;
      const inside = specifier.startsWith("./") || specifier === "../pool-options.js";
      if (!inside) impure.push(`${name} imports ${specifier}`);
    }
    for (const call of ["setTimeout", "setImmediate", "setInterval", "performance.", "Date.now", "process.", "worker_threads"]) {
      if (text.includes(call)) impure.push(`${name} uses ${call}`);
    }
  }
  assert.deepEqual(impure, []);
});
