// The static half of `loopwise check` on its own: which calls it knows to block, with the types
// resolved and without them, and how it loads the TypeScript compiler.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import ts from "typescript";
import { BlockingCallFinder } from "../../src/check/blocking-calls.ts";
import { loadTypeScript, TypeScriptMissingError } from "../../src/check/typescript.ts";
import { fixture } from "../helpers.ts";

const file = fixture("check/calls.ts");
const expected = {
  namedImport: ["node-sync fs.readFileSync"],
  namespaceImport: ["node-sync crypto.pbkdf2Sync"],
  // Both calls block, each is a finding of its own.
  defaultImport: ["node-sync zlib.gunzipSync", "node-sync zlib.gzipSync"],
  packageCall: ["bcrypt bcryptjs.hashSync"],
  sleeps: ["sleep-sync sleepSync"],
  waits: ["atomics-wait Atomics.wait"],
  asynchronous: [],
};

/** What the finder reports for each function of the fixture, in a program made with `options`. */
function findings(options: ts.CompilerOptions): Record<string, string[]> {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    noEmit: true,
    ...options,
  });
  const finder = new BlockingCallFinder(ts, program, {
    isAppFile: (name) => name === file,
    isLoopwise: (name) => name === "loopwise" || /[\\/](src|dist)[\\/]threads[\\/]sleep-sync\./.test(name),
  });
  const result: Record<string, string[]> = {};
  for (const statement of program.getSourceFile(file)!.statements) {
    if (ts.isFunctionDeclaration(statement) && statement.name) {
      result[statement.name.text] = finder.blockingCalls(statement).map((call) => `${call.kind} ${call.api}`);
    }
  }
  return result;
}

test("each kind of blocking call is known by the declaration its call resolves to", () => {
  assert.deepEqual(findings({ types: ["node"] }), expected);
});

test("without the types (no @types/node, an untyped package) the same calls are known by their imports", () => {
  // noResolve: no import is followed, as when an app has no type declarations for them.
  assert.deepEqual(findings({ noResolve: true, types: [] }), expected);
});

test("loads the typescript package as the app's project sees it", () => {
  assert.equal(typeof loadTypeScript(fixture("check"), []).createProgram, "function");
});

test("no typescript at all: the error names the install command", () => {
  const empty = mkdtempSync(join(tmpdir(), "loopwise-no-ts-"));
  try {
    assert.throws(
      () => loadTypeScript(empty, []),
      (error: Error) =>
        error instanceof TypeScriptMissingError &&
        /typescript package is not installed/.test(error.message) &&
        error.message.includes("npm i -D typescript@5"),
    );
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test("a typescript without the JavaScript API (TypeScript 7's package): the error says so, and how to add TypeScript 5 beside it", () => {
  const project = mkdtempSync(join(tmpdir(), "loopwise-ts7-"));
  try {
    // TypeScript 7's package as far as this matters: a version, and no createProgram.
    const dir = join(project, "node_modules", "typescript");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "typescript", version: "7.0.2", main: "index.js" }));
    writeFileSync(join(dir, "index.js"), "module.exports = { version: '7.0.2' };\n");
    assert.throws(
      () => loadTypeScript(project, []),
      (error: Error) =>
        error instanceof TypeScriptMissingError &&
        error.message.includes("typescript 7.0.2 does not have") &&
        error.message.includes("npm i -D typescript@5") &&
        error.message.includes("npm i -D typescript5@npm:typescript@5"),
    );
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});
