// `loopwise check` through the real CLI, on apps written for it: every kind of finding with its
// route, chain, place and fix; the exemptions; no alarm on code off the loop or truly async.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { before, describe, test } from "node:test";
import type { CheckReport } from "../../src/check/check-apps.ts";
import { reportText } from "../../src/check/report.ts";
import { fixture, runCli } from "../helpers.ts";

/** What `--json` prints. */
type Report = CheckReport & { ok: boolean };

const shown = (name: string) => relative(process.cwd(), fixture(`check/${name}`));
/** The line of `text` in the fixture, 1-based: the assertions follow the file. */
function lineOf(name: string, text: string): number {
  const lines = readFileSync(fixture(`check/${name}`), "utf8").split("\n");
  const index = lines.findIndex((line) => line.includes(text));
  assert.ok(index >= 0, `${name} has no line with ${text}`);
  return index + 1;
}

describe("an app with blocking calls on the loop lane", () => {
  let code: number | null;
  let report: Report;
  before(async () => {
    const run = await runCli(["check", fixture("check/blocking-app.ts"), "--json"]);
    code = run.code;
    assert.equal(run.stderr, "");
    report = JSON.parse(run.stdout);
  });
  const found = (route: string) => report.findings.filter((f) => f.routes.includes(route));

  test("exits 1 and reports each kind of blocking call, once, on the route that makes it", () => {
    assert.equal(code, 1);
    assert.equal(report.ok, false);
    const byRoute = report.findings.map((f) => `${f.routes.join(",")} ${f.call.kind} ${f.call.api}`).sort();
    assert.deepEqual(
      byRoute,
      [
        "GET /admin/stats,GET /admin/report node-sync fs.readFileSync",
        "GET /atomics atomics-wait Atomics.wait",
        "GET /bcrypt bcrypt bcryptjs.compareSync",
        "GET /bcrypt bcrypt bcryptjs.hashSync",
        "GET /callback node-sync fs.statSync",
        "GET /chain node-sync fs.readFileSync",
        "GET /crypto node-sync crypto.pbkdf2Sync",
        "GET /direct-blocking app-blocking hash (registered with blocking())",
        "GET /exec node-sync child_process.execSync",
        "GET /forced node-sync fs.statSync",
        "GET /fs node-sync fs.readFileSync",
        "GET /method node-sync fs.readFileSync",
        "GET /recursion node-sync fs.readFileSync",
        "GET /sleep sleep-sync sleepSync",
        "GET /sqlite/exec sqlite Database.exec (better-sqlite3)",
        "GET /sqlite/exec sqlite Statement.run (better-sqlite3)",
        "GET /sqlite/exec sqlite Transaction (better-sqlite3)",
        "GET /sqlite/get sqlite Statement.get (better-sqlite3)",
        "GET /with-dependency node-sync fs.existsSync",
        "GET /list/a,GET /list/b node-sync fs.readFileSync",
        "GET /passed node-sync fs.statSync",
        "WEBSOCKET /ws sleep-sync sleepSync",
        "GET /zlib node-sync zlib.gzipSync",
      ].sort(),
    );
    assert.deepEqual(report.unchecked, []);
  });

  test("a finding names the blocking call's file:line:column and the function that runs on the loop", () => {
    const [fs] = found("GET /fs");
    const line = lineOf("blocking-app.ts", 'app.get("/fs"');
    assert.deepEqual(fs!.call, {
      file: shown("blocking-app.ts"),
      line,
      column: 28,
      kind: "node-sync",
      api: "fs.readFileSync",
      callee: "readFileSync",
    });
    assert.deepEqual(fs!.code, { file: shown("blocking-app.ts"), line, column: 16, kind: "handler", name: "anonymous" });
    assert.deepEqual(fs!.via, []);
    assert.match(
      fs!.fix,
      /^Make the handler a plain function \(drop async\) so it runs on the worker pool, or move the blocking call .* await offload\(fn, \.\.\.args\)\.$/,
    );
  });

  test("through helpers in other modules, and a method of the app's class: the whole chain", () => {
    const [chain] = found("GET /chain");
    assert.deepEqual(
      chain!.via.map((hop) => `${hop.callee} ${hop.file}:${hop.line}`),
      [
        `loadConfig ${shown("blocking-app.ts")}:${lineOf("blocking-app.ts", 'app.get("/chain"')}`,
        `readSettings ${shown("helpers.ts")}:${lineOf("helpers.ts", 'return readSettings("/dev/null")')}`,
      ],
    );
    assert.equal(`${chain!.call.file}:${chain!.call.line}`, `${shown("settings.ts")}:${lineOf("settings.ts", 'return readFileSync(path, "utf8")')}`);
    const [method] = found("GET /method");
    assert.deepEqual(
      method!.via.map((hop) => hop.callee),
      ["new Repo(...).find", "loadConfig", "readSettings"],
    );
    const [passed] = found("GET /passed");
    assert.deepEqual(
      passed!.via.map((hop) => hop.callee),
      ["sizeOf (passed to [...].map)"],
    );
    const [recursion] = found("GET /recursion");
    assert.deepEqual(
      recursion!.via.map((hop) => hop.callee),
      ["countDown", "readSettings"],
    );
  });

  test("the fix fits what runs on the loop: a forced plain handler, a dependency, middleware, a WebSocket, a blocking() function", () => {
    assert.match(found("GET /forced")[0]!.fix, /^Remove the route's lane: "loop" option so the plain handler runs on the worker pool/);
    const dependency = found("GET /with-dependency")[0]!;
    assert.deepEqual([dependency.code.kind, dependency.code.name], ["dependency", "currentUser"]);
    assert.match(dependency.fix, /^Make the dependency a plain function .*structured-cloneable/);
    const middleware = found("GET /admin/stats")[0]!;
    assert.deepEqual(
      [middleware.code.kind, middleware.code.name, middleware.routes],
      ["middleware", "audit", ["GET /admin/stats", "GET /admin/report"]],
    );
    assert.match(middleware.fix, /^Middleware runs on the event loop/);
    assert.match(found("WEBSOCKET /ws")[0]!.fix, /^A WebSocket handler runs on the event loop/);
    assert.match(found("GET /direct-blocking")[0]!.fix, /^Call it through the pool: await offload\(hash, \.\.\.args\)/);
  });

  test("calls marked loopwise-allow-blocking, on the line above or on the helper, are reported apart", () => {
    const exempted = report.exempted.map((f) => `${f.routes.join(",")} ${f.call.api} ${[...f.via.map((h) => h.callee), f.call.callee].join(" > ")}`);
    assert.deepEqual(exempted.sort(), [
      "GET /exempt/helper fs.readFileSync describeVersion > readVersion > readFileSync",
      "GET /exempt/line fs.readFileSync readFileSync",
    ]);
  });

  test("counts what it read: every route, and each loop-lane function once", () => {
    assert.equal(report.routes, 24);
    // 20 async or forced handlers and the factory's one, the dependency, the middleware and the WebSocket handler.
    assert.equal(report.loopCode, 24);
    assert.ok(report.durationMs > 0);
  });
});

test("an app whose blocking calls all run off the loop, or that uses async APIs: exit 0, no finding", async () => {
  const run = await runCli(["check", fixture("check/clean-app.ts")]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /^No blocking calls on the event loop: 9 routes checked, 5 functions on the event loop read, in \d+\.\d s\.\n$/);
});

test("text output: file:line:column first, then the chain and the fix; and several apps at once", async () => {
  const run = await runCli(["check", fixture("check/clean-app.ts"), `${fixture("check/blocking-app.ts")}:app`]);
  assert.equal(run.code, 1);
  const chain = run.stdout.split("\n").findIndex((line) => line.includes("readSettings"));
  const line = lineOf("settings.ts", 'return readFileSync(path, "utf8")');
  assert.match(
    run.stdout.split("\n")[chain - 1]!,
    new RegExp(`^${shown("settings.ts")}:${line}:10  fs\\.readFileSync blocks the event loop in GET /chain \\(.*blocking-app\\.ts:app\\)$`),
  );
  assert.match(
    run.stdout.split("\n")[chain]!,
    /^ {4}chain: handler \(.*blocking-app\.ts:\d+:\d+\) → loadConfig\(\) .*blocking-app\.ts:\d+:\d+ → readSettings\(\) .*helpers\.ts:5:10 → readFileSync\(\) .*settings\.ts:5:10$/,
  );
  assert.match(run.stdout.split("\n")[chain + 1]!, /^ {4}fix: Make the handler a plain function/);
  assert.match(run.stdout, /\n23 blocking calls on the event loop \(2 more marked as deliberate\): 33 routes checked/);
});

test("a JavaScript app is read as it is, through its own helpers", async () => {
  const run = await runCli(["check", fixture("check/js-app.mjs"), "--json"]);
  assert.equal(run.code, 1, run.stderr);
  const report: Report = JSON.parse(run.stdout);
  assert.deepEqual(
    report.findings.map((f) => `${f.routes} ${f.call.api} ${f.via.map((h) => h.callee)} ${f.call.file}:${f.call.line}`),
    [`GET /js fs.readFileSync readAll ${shown("js-app.mjs")}:${lineOf("js-app.mjs", "return readFileSync")}`],
  );
});

test("bad use: no module is a usage error (2), a missing module a clear error (1)", async () => {
  const none = await runCli(["check"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /check takes one or more MODULE\[:EXPORT\]/);
  const missing = await runCli(["check", "no/such/app.ts"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Could not import module "no\/such\/app\.ts": no such file/);
  const wrongExport = await runCli(["check", `${fixture("check/clean-app.ts")}:nothing`]);
  assert.equal(wrongExport.code, 1);
  assert.match(wrongExport.stderr, /Attribute "nothing" not found/);
});

describe("module-level state written by code that runs in workers", () => {
  let code: number | null;
  let report: Report;
  let text: string;
  before(async () => {
    // One run: the text is what the command prints for the same report.
    const json = await runCli(["check", fixture("check/state-app.ts"), "--json"]);
    code = json.code;
    assert.equal(json.stderr, "");
    report = JSON.parse(json.stdout);
    text = reportText(report, 1);
  });

  test("each variable is named once, where it is declared, with every route that writes it; a warning does not fail the check", () => {
    assert.equal(code, 0);
    assert.equal(report.ok, true);
    const warned = report.perWorkerState.map((w) => `${w.variable.name} ${w.kind} ${w.routes.join(",")}`);
    assert.deepEqual(warned, [
      "rows written POST /rows",
      "visits written GET /visits,GET /loop-with-plain-dependency",
      "byName written PUT /names/:name",
      "memory in-memory-database POST /notes",
      "remembered written GET /helper",
    ]);
    const visits = report.perWorkerState.find((w) => w.variable.name === "visits")!;
    assert.deepEqual(visits.variable, { file: shown("state-app.ts"), line: lineOf("state-app.ts", "let visits"), column: 5, name: "visits" });
    assert.deepEqual(
      visits.writes.map((w) => w.line),
      [lineOf("state-app.ts", "++visits"), lineOf("state-app.ts", "visits += 1")],
    );
    const remembered = report.perWorkerState.find((w) => w.variable.name === "remembered")!;
    assert.equal(remembered.variable.file, shown("state-helpers.ts"));
  });

  test("reads, the loop lane, locals and a cache marked loopwise-per-worker are left alone", () => {
    const names = report.perWorkerState.map((w) => w.variable.name);
    for (const quiet of ["prices", "loopCount", "mine", "n", "cache"]) assert.ok(!names.includes(quiet), quiet);
  });

  test("text output: the place first, the routes, where it is written and the fix", () => {
    const rows = lineOf("state-app.ts", "const rows");
    assert.match(
      text,
      new RegExp(
        `${shown("state-app.ts")}:${rows}:7  warning: rows is module-level state written by POST /rows in workers: each worker has its own copy`,
      ),
    );
    assert.match(text, /warning: memory is an in-memory database used by POST \/notes in workers: each worker has its own\n {4}used at: /);
    assert.match(
      text,
      /fix: Each worker has its own copy, so requests see different values: keep shared data in a database or in SharedCounter\/SharedTable, or mark the line \/\/ loopwise-per-worker/,
    );
    assert.match(text, /^5 warnings: module-level state that is one per worker \(above\)\.$/m);
  });
});
