// Values that are not Errors, thrown in the CLI's own paths (importing the app, its startup
// hooks): the process exits 1 and says what was thrown, in words, never "undefined" or a
// TypeError of its own.
import assert from "node:assert/strict";
import { relative } from "node:path";
import { test } from "node:test";
import { fixture, runCli } from "../helpers.ts";

const startupApp = relative(process.cwd(), fixture("startup-throws-app.ts"));
const run = (throws: string) =>
  runCli(["run", `${fixture("startup-throws-app.ts")}:app`, "--port", "0", "--pool-size", "1"], { THROWS: throws }, 30_000);

test("a module that throws a Symbol or null while it is imported: the value is named", async () => {
  for (const [throws, value] of [
    ["import-symbol", "Symbol(boom)"],
    ["import-null", "null"],
  ]) {
    const { code, stderr } = await run(throws!);
    assert.equal(code, 1, stderr);
    assert.match(
      stderr,
      new RegExp(`Could not import module ".*startup-throws-app\\.ts": it threw a value that is not an Error: ${value!.replace(/[()]/g, "\\$&")}`),
    );
    assert.doesNotMatch(stderr, /undefined|TypeError/);
  }
});

test("an onStartup hook that throws null or a null-prototype object: the hook's line and the value are named", async () => {
  for (const [throws, value] of [
    ["startup-null", "null"],
    ["startup-bare-object", "[Object: null prototype] { code: 'EDB' }"],
  ]) {
    const { code, stderr } = await run(throws!);
    assert.equal(code, 1, stderr);
    assert.ok(
      stderr.includes(`Application startup failed: onStartup hook registered at ${startupApp}:11 failed: a value that is not an Error: ${value}`),
      stderr,
    );
    assert.doesNotMatch(stderr, /TypeError/);
  }
});
