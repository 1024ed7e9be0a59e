// How `loopwise run` loads a TypeScript app in its main thread: Node's own type stripping where
// the app's tsconfig says its code is written for it (Node 22.18+), tsx otherwise, and tsx again
// when Node turns a module down before running any of it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { mainThreadLoader, writtenForTypeStripping } from "../../src/cli/typescript-loader.ts";
import { nodeStripsTypes } from "../../src/pool/module-loader.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "loopwise-ts-loader-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("the tsconfig decides whether Node may strip the app's types", () => {
  test("verbatimModuleSyntax, read through comments, trailing commas and `extends`", () => {
    const dir = folder({
      "base.json": `{ /* shared */ "compilerOptions": { "verbatimModuleSyntax": true, "strict": true, } }`,
      "tsconfig.json": `// the app's\n{ "extends": "./base.json", "compilerOptions": { "outDir": "dist//js" } }`,
    });
    assert.equal(writtenForTypeStripping(join(dir, "tsconfig.json")), true);
  });

  test("not without verbatimModuleSyntax, nor with path aliases or legacy decorators, nor without a tsconfig", () => {
    const cases = {
      plain: `{ "compilerOptions": { "strict": true } }`,
      paths: `{ "compilerOptions": { "verbatimModuleSyntax": true, "paths": { "@/*": ["./src/*"] } } }`,
      decorators: `{ "compilerOptions": { "verbatimModuleSyntax": true, "experimentalDecorators": true } }`,
      overridden: `{ "extends": "./base.json", "compilerOptions": { "verbatimModuleSyntax": false } }`,
      broken: `{ "compilerOptions": `,
    };
    const dir = folder({ "base.json": `{ "compilerOptions": { "verbatimModuleSyntax": true } }` });
    for (const [name, text] of Object.entries(cases)) {
      writeFileSync(join(dir, `${name}.json`), text);
      assert.equal(writtenForTypeStripping(join(dir, `${name}.json`)), false, name);
    }
    assert.equal(writtenForTypeStripping(undefined), false);
  });

  test("JavaScript is imported as it is, and on a Node without type stripping TypeScript goes to tsx", () => {
    assert.equal(mainThreadLoader("file:///app/main.js"), "tsx");
    if (!nodeStripsTypes()) assert.equal(mainThreadLoader("file:///app/main.ts"), "tsx");
  });
});

describe("on a Node that strips types (22.18+)", { skip: !nodeStripsTypes() && "this Node does not strip types" }, () => {
  // Each import in a process of its own, without this one's tsx; in this repository, whose
  // tsconfig sets verbatimModuleSyntax.
  const dir = folder({
    "package.json": `{ "type": "module" }`,
    "plain.ts": `interface Greeting { text: string }\nconst greeting: Greeting = { text: "hi" };\nexport const value = greeting.text;\n`,
    "enum.ts": `enum Color { Red, Green }\nexport const value = Color.Green;\n`,
    "helper.ts": `export const helper = (n: number): number => n * 2;\n`,
    "js-specifier.ts": `import { helper } from "./helper.js";\nexport const value = helper(21);\n`,
    "throws.ts": `console.log("evaluated");\nexport const value = 1;\nthrow new Error("the app's own error");\n`,
  });
  const loaderModule = fileURLToPath(new URL("../../dist/cli/typescript-loader.js", import.meta.url));
  const load = (name: string) => {
    const script = `import { importAppModule } from ${JSON.stringify(pathToFileURL(loaderModule).href)};
      importAppModule(${JSON.stringify(pathToFileURL(join(dir, name)).href)}).then(
        ({ namespace, loader }) => console.log(JSON.stringify({ loader, value: namespace.value })),
        (error) => console.log(JSON.stringify({ error: error.message })));`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", cwd: repo });
    return out.trim().split("\n");
  };

  test("a module that is JavaScript once its types are erased is loaded by Node itself", () => {
    assert.deepEqual(load("plain.ts"), [JSON.stringify({ loader: "native", value: "hi" })]);
  });

  test("an enum, or a ./x.js import of x.ts, Node turns down before running anything: tsx loads it", () => {
    assert.deepEqual(load("enum.ts"), [JSON.stringify({ loader: "tsx", value: 1 })]);
    assert.deepEqual(load("js-specifier.ts"), [JSON.stringify({ loader: "tsx", value: 42 })]);
  });

  test("an app that throws as it runs fails once, with its own error, and is not run again", () => {
    assert.deepEqual(load("throws.ts"), ["evaluated", JSON.stringify({ error: "the app's own error" })]);
  });
});
