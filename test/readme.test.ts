// The README's code is the tested examples' code: each block marked `<!-- from FILE -->` must
// appear in FILE, line for line (indentation aside); `// ...` marks a gap.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const root = new URL("../", import.meta.url);
const readme = readFileSync(new URL("README.md", root), "utf8");
const lines = (text: string) => text.split("\n").map((l) => l.trim()).filter((l) => l !== "");

test("README code blocks marked with their source match the tested files", () => {
  const blocks = [...readme.matchAll(/<!-- from (\S+) -->\n```ts\n([\s\S]*?)\n```/g)];
  assert.ok(blocks.length >= 7, `only ${blocks.length} marked blocks`);
  for (const [, file, code] of blocks) {
    const source = lines(readFileSync(new URL(file!, root), "utf8"));
    let from = 0;
    for (const segment of code!.split(/^\s*\/\/ \.\.\.\s*$/m).map(lines).filter((s) => s.length > 0)) {
      let found = -1;
      for (let i = from; i + segment.length <= source.length && found < 0; i++) {
        if (segment.every((line, j) => source[i + j] === line)) found = i;
      }
      assert.ok(found >= 0, `README block from ${file} does not match it; first line: ${segment[0]}`);
      from = found + segment.length;
    }
  }
});
