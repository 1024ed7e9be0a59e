// `loopwise check` over every example and docs app, in one run as CI would: all clean but the
// seed app's deliberate GET /async/sleep, the route the demo's Test 2 blocks the loop with, and
// the two apps that show module-level state being one per worker.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers.ts";
import { blocksOf, root } from "../docs/markdown.ts";

/** Every `MODULE:EXPORT` of an app under examples/ and docs/examples/ (test files left out). */
function exampleApps(): string[] {
  const specs: string[] = [];
  for (const dir of ["examples", "docs/examples"]) {
    for (const file of readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts") || file.endsWith(".test.ts")) continue;
      const text = readFileSync(join(root, dir, file), "utf8");
      for (const [, name] of text.matchAll(/^export const (\w+) = new App\(/gm)) specs.push(`${join(dir, file)}:${name}`);
    }
  }
  return specs;
}

test("every example and docs app is clean, but for the seed app's deliberate blocking route", async () => {
  const apps = exampleApps();
  assert.ok(apps.length >= 20, `found only ${apps.length} apps`);
  assert.ok(apps.includes("examples/seed/main.ts:app"));
  // The settings page's app reads its variables when imported: the ones its example .env gives.
  const envFile = join(root, "docs/examples/settings/example.env");
  const run = await runCli(["check", ...apps.map((spec) => join(root, spec)), "--json", "--env-file", envFile], {}, 120_000);
  assert.equal(run.stderr, "");
  assert.equal(run.code, 1);
  const report = JSON.parse(run.stdout);
  const found = report.findings.map(
    (f: { routes: string[]; call: { api: string; file: string; line: number } }) => `${f.routes} ${f.call.api} ${f.call.file}:${f.call.line}`,
  );
  assert.deepEqual(found, ["GET /async/sleep sleepSync examples/seed/main.ts:10"]);
  const exempted = report.exempted.map((f: { routes: string[]; call: { file: string } }) => `${f.routes} ${f.call.file}`);
  assert.deepEqual(exempted, ["GET /motd docs/examples/before-it-ships/app.ts"]);
  assert.deepEqual(report.unchecked, []);
  // The two apps that show per-worker state on purpose are the only ones warned about it.
  const warned = report.perWorkerState.map((w: { variable: { name: string; file: string } }) => `${w.variable.file} ${w.variable.name}`);
  assert.deepEqual(warned, ["docs/examples/module-state.ts memory", "examples/shared-state/main.ts perThread"]);
});

for (const [page, count] of [
  ["docs/before-it-ships.md", 2],
  ["docs/shared-state.md", 1],
] as const) {
  test(`${page} shows what the check prints (the time aside)`, async () => {
    const blocks = blocksOf(page);
    const shown = blocks.flatMap((block, i) => {
      const command = /^npx loopwise check (\S+)$/.exec(block.code.trim());
      const output = blocks[i + 1];
      return block.lang === "sh" && command && output?.lang === "text" ? [{ module: command[1]!, output: output.code.trim() }] : [];
    });
    assert.equal(shown.length, count);
    const time = (text: string) => text.replace(/ in \d+\.\d s\.$/m, " in N s.");
    for (const { module, output } of shown) {
      const run = await runCli(["check", module]);
      assert.equal(time(run.stdout.trim()), time(output), `npx loopwise check ${module}`);
    }
  });
}
