// The `loopwise` command: demo, routes, and its error messages.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fixture, runCli, seedApp } from "../helpers.ts";

test("loopwise demo replays Test 1 and Test 2, draws both timelines and passes", async () => {
  const picture = join(mkdtempSync(join(tmpdir(), "loopwise-demo-")), "timeline.svg");
  const result = await runCli(["demo", "--sleep", "600", "--out", picture]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.equal(result.stdout.match(/^Timeline:/gm)?.length, 2);
  assert.match(result.stdout, /Test 1: \/sync\/sleep, \/async\/hello, \/sync\/hello/);
  assert.match(result.stdout, /Test 2: \/async\/sleep, \/async\/hello, \/sync\/hello/);
  assert.match(result.stdout, /"GET \/async\/sleep HTTP\/1\.1" 200 OK \d+\.\dms lane=loop/);
  assert.match(result.stdout, /"GET \/sync\/sleep HTTP\/1\.1" 200 OK \d+\.\dms lane=worker#\d queued=/);
  assert.match(result.stdout, /Result: both tests behaved as in the FastAPI write-up/);
  // Test 2's explanation points at the check that finds the same route before it runs.
  assert.match(result.stdout, /`npx loopwise check examples\/seed\/main\.ts` finds it too: it names the sleepSync call in\n\s*\/async\/sleep/);
  // The loop monitor names the blocker in Test 2, and the line of its blocking call (when its
  // watchdog got a look at the stack during the block: a loaded machine may starve it).
  assert.match(
    result.stdout,
    /WARNING GET \/async\/sleep blocked the event loop for \d+ ms(?: at \S*examples\/seed\/main\.ts:10)? \(2 requests waited\)/,
  );

  const svg = readFileSync(picture, "utf8");
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  for (const text of ["Test 1: /sync/sleep", "Test 2: /async/sleep", "GET /async/sleep blocked the event loop", "worker#", "loop"]) {
    assert.ok(svg.includes(text), `the picture shows ${text}`);
  }
});

test("demo --out takes only .svg or .html", async () => {
  const result = await runCli(["demo", "--out", "timeline.png"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--out must name an \.svg or \.html file/);
});

test("loopwise routes lists each route with its lane", async () => {
  const result = await runCli(["routes", seedApp]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split("\n");
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^GET \/async\/sleep\s+loop\b/);
  assert.match(lines[1]!, /^GET \/sync\/sleep\s+worker\b/);
});

test("loopwise routes lists WebSocket routes too, on the loop", async () => {
  const result = await runCli(["routes", fixture("notes-echo-app.ts")]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^WEBSOCKET \/ws\/echo\s+loop\s+echo$/m);
});

test("the CLI says precisely what is wrong with an import string", async () => {
  const missingFile = await runCli(["routes", "nowhere/main.ts:app"]);
  assert.equal(missingFile.code, 1);
  assert.match(missingFile.stderr, /Could not import module "nowhere\/main.ts": no such file/);

  const missingExport = await runCli(["routes", `${seedApp}:application`]);
  assert.equal(missingExport.code, 1);
  assert.match(missingExport.stderr, /Attribute "application" not found in module .* It exports an app as: app\./);

  const notAnApp = await runCli(["routes", `${fixture("lanes-app.ts")}:hashLike`]);
  assert.equal(notAnApp.code, 1);
  assert.match(notAnApp.stderr, /is not a Loopwise App \(got function\)/);
});

test("an import string in uvicorn's form finds the module's file, or says which files are there", async () => {
  // `main:app` finds main.ts, and Python's dotted `test.fixtures.unexported` the file of that path.
  const found = await runCli(["routes", "test/fixtures/lanes-app:app"]);
  assert.equal(found.code, 0, found.stderr);
  assert.match(found.stdout, /GET \/worker\/where/);
  const wrongExtension = await runCli(["routes", "test/fixtures/lanes-app.js:app"]);
  assert.equal(wrongExtension.code, 1);
  assert.match(
    wrongExtension.stderr,
    /Could not import module "test\/fixtures\/lanes-app.js": no such file\. Did you mean test\/fixtures\/lanes-app.ts\?/,
  );
  // An app the module makes but does not export: every worker finds the app by its export.
  const unexported = await runCli(["routes", "test.fixtures.unexported:app"]);
  assert.equal(unexported.code, 1);
  assert.match(
    unexported.stderr,
    /Attribute "app" not found in module "test.fixtures.unexported"\. The module creates an App but does not export it: write `export const app = new App\(\)`\./,
  );
});

test("a mistyped flag or command says what was meant, with that command's usage", async () => {
  const flag = await runCli(["run", seedApp, "--prot", "8000"]);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /^Error: unknown option --prot; did you mean --port\?\n\nUsage: loopwise run MODULE\[:EXPORT\] \[OPTIONS\]/);
  assert.doesNotMatch(flag.stderr, /Commands:|To specify a positional argument/);
  const switchTypo = await runCli(["run", seedApp, "--relaod"]);
  assert.match(switchTypo.stderr, /unknown option --relaod; did you mean --reload\?/);
  const far = await runCli(["routes", seedApp, "--verbose"]);
  assert.match(far.stderr, /^Error: unknown option --verbose\n\nUsage: loopwise routes MODULE\[:EXPORT\]/);
  const command = await runCli(["wroker", seedApp]);
  assert.equal(command.code, 2);
  assert.match(command.stderr, /unknown command "wroker"; did you mean "worker"\?/);
  const extra = await runCli(["routes", seedApp, seedApp]);
  assert.match(extra.stderr, /^Error: routes takes one MODULE\[:EXPORT\]\n\nUsage: loopwise routes/);
});

test("bad flags are usage errors with exit code 2", async () => {
  const badPort = await runCli(["run", seedApp, "--port", "eighty"]);
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--port must be an integer/);
  const unknown = await runCli(["serve"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "serve"/);
  const badFormat = await runCli(["run", seedApp, "--log-format", "xml"]);
  assert.equal(badFormat.code, 2);
});

test("every command answers --help and -h with its flags and their defaults; --version names the version", async () => {
  for (const command of ["run", "routes", "check", "demo"]) {
    for (const flag of ["--help", "-h"]) {
      const help = await runCli([command, flag]);
      assert.equal(help.code, 0, `${command} ${flag}: ${help.stderr}`);
      assert.match(help.stdout, new RegExp(`^Usage: loopwise ${command}`));
    }
  }
  const run = await runCli(["run", "--help"]);
  assert.match(run.stdout, /--port N\s+port to listen on; 0 picks a free one \[default: 8000\]/);
  assert.match(run.stdout, /--worker-memory MB\s+.*\[default: /);
  const version = await runCli(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^loopwise \d+\.\d+\.\d+ \(Node\.js v\d+/);
});

test("the CLI passes serve() only the flags it was given: every default stays in the server's config", async () => {
  const { parseFlags, runFlags } = await import("../../src/cli/flags.ts");
  const { serveOptions } = await import("../../src/cli/serve-options.ts");
  assert.deepEqual(serveOptions(parseFlags(["app.ts"], runFlags).given), {});
  assert.deepEqual(serveOptions(parseFlags(["app.ts", "--port", "0", "--no-loop-monitor", "--worker-memory", "64"], runFlags).given), {
    port: 0,
    loopMonitor: false,
    workerMemoryMb: 64,
  });
});
