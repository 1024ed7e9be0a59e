// `loopwise init`: a project in an empty folder that type-checks, passes its own test and serves
// at once (its packages linked from this repository's node_modules: no registry in tests).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { cliPath, request } from "../helpers.ts";
// The project init writes (examples/project, shown in docs/first-steps.md): its test runs here too.
import "../../examples/project/test/main.test.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const shipped = join(repo, "examples/project");
const generated = ["main.ts", "test/main.test.ts", "tsconfig.json", ".gitignore"];

/** The environment of a command run as a user would: not as a child of this test runner (which would skip its tests). */
const { NODE_TEST_CONTEXT: _, ...userEnv } = process.env;

/** Runs `command` in `cwd` to its end; its exit code and output. */
function run(command: string, args: string[], cwd: string, timeoutMs = 120_000) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(command, args, { cwd, env: userEnv, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const init = (cwd: string, ...args: string[]) => run(process.execPath, [cliPath, "init", ...args], cwd);

/** What `npm install` would give the project, linked from this repository. */
function linkPackages(project: string): void {
  const modules = join(project, "node_modules");
  mkdirSync(join(modules, ".bin"), { recursive: true });
  mkdirSync(join(modules, "@types"));
  symlinkSync(repo, join(modules, "loopwise"));
  for (const name of ["zod", "tsx", "typescript", "@types/node"]) symlinkSync(join(repo, "node_modules", name), join(modules, name));
  symlinkSync(cliPath, join(modules, ".bin/loopwise"));
  symlinkSync(join(repo, "node_modules/typescript/bin/tsc"), join(modules, ".bin/tsc"));
}

test("init in an empty folder writes a project that type-checks, passes its test and serves", async () => {
  const project = join(mkdtempSync(join(tmpdir(), "loopwise-init-")), "bookshop");
  mkdirSync(project);
  const { code, out } = await init(project);
  assert.equal(code, 0, out);
  assert.match(out, /^Created package\.json, tsconfig\.json, main\.ts, test\/main\.test\.ts, \.gitignore\.\n\nNext:\n {2}npm install\n {2}npm start/);
  // The files are the ones examples/project holds (and the docs show).
  for (const file of generated) assert.equal(readFileSync(join(project, file), "utf8"), readFileSync(join(shipped, file), "utf8"), file);
  const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
  const own = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
  assert.equal(pkg.name, "bookshop");
  assert.equal(pkg.type, "module");
  assert.deepEqual(pkg.dependencies, { loopwise: `^${own.version}`, zod: own.devDependencies.zod });
  assert.deepEqual(Object.keys(pkg.devDependencies).sort(), ["@types/node", "tsx", "typescript"]);

  linkPackages(project);
  const typecheck = await run("npm", ["run", "typecheck"], project);
  assert.equal(typecheck.code, 0, typecheck.out);
  const tested = await run("npm", ["test"], project);
  assert.equal(tested.code, 0, tested.out);
  // TAP on Node 20, the spec reporter on Node 23 and later.
  assert.match(tested.out, /(# |ℹ )pass 3\n(# |ℹ )fail 0/);

  // npm start, on a free port; its process group is ours to stop.
  const server = spawn("npm", ["start", "--", "--port", "0", "--log-format", "json"], {
    cwd: project,
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("npm start did not listen")), 30_000);
      createInterface({ input: server.stderr! }).on("line", (line) => {
        if (!line.startsWith("{")) return;
        const parsed = JSON.parse(line);
        if (parsed.event === "listening") {
          clearTimeout(timer);
          resolve(parsed.url);
        }
      });
      server.once("exit", (exit) => reject(new Error(`npm start exited with ${exit}`)));
    });
    assert.deepEqual((await request(`${url}/`)).json, { message: "Hello World" });
    assert.equal((await request(`${url}/hash/hello`)).json.hash.length, 64);
    assert.match((await request(`${url}/docs`)).text, /Swagger UI/);
  } finally {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    process.kill(-server.pid!, "SIGTERM");
    await exited;
  }
});

test("init in a folder npm init -y made completes its package.json and keeps the files there", async () => {
  const project = mkdtempSync(join(tmpdir(), "loopwise-init-"));
  const npmInit = {
    name: "shop",
    version: "1.0.0",
    main: "index.js",
    type: "commonjs",
    scripts: { test: 'echo "Error: no test specified" && exit 1', lint: "biome check" },
  };
  writeFileSync(join(project, "package.json"), JSON.stringify(npmInit));
  writeFileSync(join(project, "main.ts"), "// mine\n");
  const { code, out } = await init(project);
  assert.equal(code, 0, out);
  assert.match(
    out,
    /^Created tsconfig\.json, test\/main\.test\.ts, \.gitignore\.\nKept main\.ts as they were\.\nCompleted package\.json\.\nSet "type": "module" in package\.json \(it was "commonjs"\)/,
  );
  assert.equal(readFileSync(join(project, "main.ts"), "utf8"), "// mine\n");
  const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
  assert.equal(pkg.name, "shop");
  assert.equal(pkg.type, "module");
  assert.equal(pkg.scripts.test, "node --import tsx --test test/*.test.ts");
  assert.equal(pkg.scripts.lint, "biome check");
  assert.equal(pkg.scripts.start, "loopwise run main.ts:app");

  // Run again: nothing to create, nothing changed.
  const again = await init(project);
  assert.match(again.out, /^Kept package\.json|^Kept tsconfig\.json, main\.ts, test\/main\.test\.ts, \.gitignore as they were\./);
  assert.deepEqual(JSON.parse(readFileSync(join(project, "package.json"), "utf8")), pkg);
});

test("init says what is wrong with a package.json it cannot read, and takes no arguments", async () => {
  const project = mkdtempSync(join(tmpdir(), "loopwise-init-"));
  writeFileSync(join(project, "package.json"), "{ not json");
  const broken = await init(project);
  assert.equal(broken.code, 1);
  assert.match(broken.out, /^Error: package\.json is not valid JSON \(.*\); fix it or remove it, then run loopwise init again\n$/);
  const extra = await init(project, "myapp");
  assert.equal(extra.code, 2);
  assert.match(extra.out, /^Error: init takes no arguments: it starts a project in the current folder\n\nUsage: loopwise init/);
});
