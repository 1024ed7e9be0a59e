// Every code block in README.md and docs/ is accounted for: TypeScript, Python, nginx and YAML blocks
// are tested files (or marked parts of them), shell blocks hold only commands checked here,
// console blocks are sessions that sessions.test.ts runs, text and json blocks are output.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { before, describe, test } from "node:test";
import { App } from "loopwise";
import { readEnvFile } from "../../src/params/settings.ts";
import { runCli } from "../helpers.ts";
import { anchorsOf, blocksOf, linksOf, pages, readPage, root, type Block } from "./markdown.ts";
import { checkShellLine, parseHelp, simpleCommands, type CliFlags, type Served } from "./shell-check.ts";
import { interfaceFields } from "./source-interfaces.ts";

let flags: CliFlags;
before(async () => {
  flags = new Map();
  for (const command of ["init", "run", "worker", "routes", "check", "demo"]) {
    const help = await runCli([command, "--help"]);
    assert.equal(help.code, 0, help.stderr);
    flags.set(command, parseHelp(help.stdout));
  }
  assert.ok(flags.get("run")?.has("port"), "could not read the flags from `loopwise run --help`");
});

const lines = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
const gap = /^(\/\/|#) \.\.\.$/;

/** The block's lines appear in the file in order, each segment (between gap lines) contiguous. */
function assertPartOf(block: Block, file: string): void {
  const source = lines(readFileSync(join(root, file), "utf8"));
  const segments: string[][] = [[]];
  for (const line of lines(block.code)) {
    if (gap.test(line)) segments.push([]);
    else segments.at(-1)!.push(line);
  }
  let from = 0;
  for (const segment of segments.filter((s) => s.length > 0)) {
    let found = -1;
    for (let i = from; i + segment.length <= source.length && found < 0; i++) {
      if (segment.every((line, j) => source[i + j] === line)) found = i;
    }
    assert.ok(found >= 0, `${block.page}:${block.line}: the block does not match ${file}; first line: ${segment[0]}`);
    from = found + segment.length;
  }
}

/**
 * Files the tests load: what each test file under test/ imports (or names with `fixture()` or
 * `new URL()`), and, for test files elsewhere that a test imports, what they import in turn.
 */
function exercisedFiles(): Set<string> {
  const found = new Set<string>();
  const visit = (file: string) => {
    const text = readFileSync(join(root, file), "utf8");
    const specifiers = [...text.matchAll(/(?:from |import |import\(|new URL\()"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]!);
    const fixtures = [...text.matchAll(/fixture\("([^"]+)"\)/g)].map((m) => `test/fixtures/${m[1]}`);
    for (const path of [...specifiers.map((s) => relative(root, resolve(root, dirname(file), s))), ...fixtures]) {
      if (found.has(path)) continue;
      found.add(path);
      if (path.endsWith(".test.ts") && !path.startsWith("test/")) visit(path);
    }
  };
  for (const file of readdirSync(join(root, "test"), { recursive: true, encoding: "utf8" })) {
    if (file.endsWith(".ts")) visit(join("test", file));
  }
  return found;
}

const exercised = exercisedFiles();

/** A TypeScript file shown in the docs must be run by a test: some test loads it. */
function assertExercised(block: Block, file: string): void {
  assert.ok(exercised.has(file), `${block.page}:${block.line}: ${file} is shown in the docs but no test under test/ loads it`);
}

function pythonParses(file: string): boolean | undefined {
  const run = spawnSync("python3", ["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())", join(root, file)], { encoding: "utf8" });
  if (run.error) return undefined;
  return run.status === 0;
}

/** A page's shell and console lines, checked; what they serve and request, to check against the apps. */
function checkPage(page: string): { served: Served; sessions: Block[] } {
  const served: Served = { apps: [], requests: [] };
  const sessions: Block[] = [];
  for (const block of blocksOf(page)) {
    const where = `${page}:${block.line}`;
    const cwd = resolve(root, block.markers.cwd ?? ".");
    switch (block.lang) {
      case "ts":
      case "python":
      case "nginx":
      case "yaml": {
        const file = block.markers.from;
        assert.ok(file, `${where}: a ${block.lang} block needs <!-- from FILE --> above it`);
        assertPartOf(block, file);
        if (block.lang === "ts") assertExercised(block, file);
        if (block.lang === "python") assert.notEqual(pythonParses(file), false, `${where}: ${file} is not valid Python`);
        break;
      }
      case "sh":
        for (const line of lines(block.code)) checkShellLine(line, { cwd, flags, served });
        break;
      case "console":
        assert.ok(block.markers.session, `${where}: a console block needs <!-- session MODULE:EXPORT --> above it`);
        sessions.push(block);
        // Their requests need no route check: the session runs them and compares the answers (a 404 included).
        for (const line of lines(block.code).filter((l) => l.startsWith("$ "))) {
          checkShellLine(line.slice(2), { cwd, flags, served: { apps: served.apps, requests: [] } });
        }
        break;
      case "text":
      case "json":
        break; // output, shown as a run printed it
      default:
        assert.fail(
          `${where}: a block of language "${block.lang}" is not checked by any test; use ts, python, nginx, yaml, sh, console, text or json`,
        );
    }
  }
  return { served, sessions };
}

/** The session's server is one the page tells the reader to start. */
function assertSessionShown(block: Block, served: Served): void {
  const words = block.markers.session!;
  const env = words.filter((w) => /^[A-Z_]+=/.test(w));
  const [spec, ...args] = words.slice(env.length);
  const [file, exportName = "app"] = spec!.split(":");
  const module = resolve(root, block.markers.cwd ?? ".", file!);
  const shown = served.apps.some(
    (app) =>
      app.module === module &&
      app.exportName === exportName &&
      app.env.join(" ") === env.join(" ") &&
      app.flags.filter((f, i, all) => !["--port", "--host"].includes(f) && !["--port", "--host"].includes(all[i - 1]!)).join(" ") === args.join(" "),
  );
  assert.ok(shown, `${block.page}:${block.line}: the session serves "${words.join(" ")}" but no shell block on the page shows that command`);
}

async function assertRequestsServed(page: string, served: Served): Promise<void> {
  const apps = await Promise.all(
    served.apps.map(async ({ module, exportName, flags: given }) => {
      // As the command does: the --env-file's variables are set before the app is imported (its settings read them).
      const envFile = given[given.indexOf("--env-file") + 1];
      if (given.includes("--env-file") && envFile)
        for (const [name, value] of Object.entries(readEnvFile(resolve(root, envFile)))) process.env[name] ??= value;
      const app = (await import(pathToFileURL(module).href))[exportName];
      assert.ok(app instanceof App, `${page}: ${module} exports no App named ${exportName}`);
      return { app: app as App, given };
    }),
  );
  for (const { method, url } of served.requests) {
    const path = new URL(url).pathname;
    const found = apps.some(
      ({ app, given }) =>
        app.match(method, path).kind === "route" ||
        (path === "/metrics" && given.includes("--metrics")) ||
        (path.startsWith("/_loopwise") && given.includes("--dev")),
    );
    assert.ok(found, `${page}: "${method} ${path}" is not served by any app the page starts`);
  }
}

describe("code blocks", () => {
  for (const page of pages()) {
    test(page, async () => {
      const { served, sessions } = checkPage(page);
      for (const session of sessions) assertSessionShown(session, served);
      await assertRequestsServed(page, served);
    });
  }
});

describe("links", () => {
  for (const page of pages()) {
    test(page, () => {
      for (const { target, line } of linksOf(page)) {
        const [path, anchor] = target.split("#");
        const file = path === "" ? page : join(dirname(page), path!);
        assert.ok(existsSync(join(root, file)), `${page}:${line}: the link to ${target} leads nowhere`);
        if (anchor && file.endsWith(".md")) assert.ok(anchorsOf(file).has(anchor), `${page}:${line}: ${file} has no heading #${anchor}`);
      }
    });
  }
});

test("the docs index links to every page under docs/", () => {
  const linked = new Set(linksOf("docs/README.md").map(({ target }) => join("docs", target.split("#")[0]!)));
  const orphans = pages().filter((page) => page.startsWith("docs/") && page !== "docs/README.md" && !linked.has(page));
  assert.deepEqual(orphans, [], "pages docs/README.md does not link to");
});

describe("README", () => {
  const readme = readPage("README.md");

  test("is a landing page: under 300 lines", () => {
    assert.ok(readme.split("\n").length < 300, `README.md has ${readme.split("\n").length} lines`);
  });

  test("shows the two commands, and CI runs the second", () => {
    const shell = blocksOf("README.md")
      .filter((b) => b.lang === "sh")
      .flatMap((b) => lines(b.code));
    const commands = shell.map((l) => l.replace(/\s+#.*$/, ""));
    assert.ok(commands.includes("npm install && npm run demo"));
    assert.ok(commands.includes("npm install && npm test"));
    const ci = readFileSync(join(root, ".ci/run"), "utf8");
    assert.ok(lines(ci).includes("npm install && npm test"), ".ci/run no longer runs the README's test command");
  });
});

describe("docs/reference.md", () => {
  // Comments (such as a TODO for an option to come) do not count as documentation.
  const reference = readPage("docs/reference.md").replace(/<!--[\s\S]*?-->/g, "");
  const documented = (name: string) => reference.includes(`\`${name}\``);

  for (const name of [
    "ServeOptions",
    "RouteOptions",
    "RouterOptions",
    "AppOptions",
    "TestClientOptions",
    "TestRequest",
    "WebSocketRouteOptions",
    "TestWebSocketInit",
  ]) {
    test(`documents every option of ${name}`, () => {
      const missing = interfaceFields(name).filter((field) => !documented(field));
      assert.deepEqual(missing, [], `docs/reference.md does not mention these ${name} options`);
    });
  }

  test("documents every CLI flag", () => {
    const missing = [...flags].flatMap(([command, known]) =>
      [...known.keys()].filter((f) => !reference.includes(`--${f}`)).map((f) => `${command} --${f}`),
    );
    assert.deepEqual(missing, [], "docs/reference.md does not mention these flags");
  });
});

test("the CLI's flags are read from its usage, with which take a value", () => {
  const run = flags.get("run")!;
  assert.deepEqual([run.get("port"), run.get("workers"), run.get("dev"), run.get("reload")], [true, true, false, false]);
  assert.equal(flags.get("demo")!.get("sleep"), true);
});

test("the shell splitter keeps quoted text and splits at operators", () => {
  assert.deepEqual(simpleCommands(`(curl -s 'a b' & sleep 0.05; curl "c" | grep x) # note`), [
    ["curl", "-s", "a b"],
    ["sleep", "0.05"],
    ["curl", "c"],
    ["grep", "x"],
  ]);
});
