// Checks the shell commands the docs show without running them: npm scripts and packages exist,
// `loopwise` commands use only the flags the CLI's own usage lists, files named exist, and each
// curl goes to a route of an app the page serves. Anything else in a shell block is an error.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { root } from "./markdown.ts";
import { projectScripts } from "../../src/cli/init.ts";

/** For each `loopwise` command, its flags and whether each takes a value, read from `loopwise COMMAND --help`. */
export type CliFlags = Map<string, Map<string, boolean>>;

/** The flags one command's `--help` lists: `  --port N    help` takes a value, `  --dev    help` does not. */
export function parseHelp(help: string): Map<string, boolean> {
  const flags = new Map<string, boolean>();
  for (const line of help.split("\n")) {
    const flag = /^\s+--([a-z][a-z0-9-]*)( \S+)?\s{2,}/.exec(line);
    if (flag) flags.set(flag[1]!, flag[2] !== undefined);
  }
  return flags;
}

/** What a shell line asks of a running app, checked once the page's apps are loaded. */
export interface Served {
  /** `loopwise run MODULE:EXPORT`: the module's absolute path and the export. */
  apps: { module: string; exportName: string; flags: string[]; env: string[] }[];
  /** `curl`: the method and URL. */
  requests: { method: string; url: string }[];
}

// openssl: the HTTPS section makes a self-signed certificate to try the server with.
const harmless = new Set(["sleep", "wait", "grep", "sort", "head", "openssl", "redis-server"]);

/** Splits a shell line into simple commands (words), honouring quotes and dropping a trailing comment. */
export function simpleCommands(line: string): string[][] {
  const commands: string[][] = [[]];
  let word: string | undefined;
  const end = () => {
    if (word !== undefined) commands.at(-1)!.push(word);
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const close = line.indexOf(c, i + 1);
      assert.ok(close > i, `unbalanced quote in: ${line}`);
      word = (word ?? "") + line.slice(i + 1, close);
      i = close;
    } else if (c === "#" && word === undefined) {
      break;
    } else if (/\s/.test(c)) {
      end();
    } else if ("&|;()".includes(c)) {
      end();
      if (commands.at(-1)!.length > 0) commands.push([]);
      if (line[i + 1] === c) i++;
    } else {
      word = (word ?? "") + c;
    }
  }
  end();
  return commands.filter((words) => words.length > 0);
}

export interface ShellContext {
  /** Where relative paths start (absolute). */
  cwd: string;
  flags: CliFlags;
  served: Served;
}

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

export function checkShellLine(line: string, context: ShellContext): void {
  for (const command of simpleCommands(line)) {
    const env = command.filter((_w, i) => command.slice(0, i + 1).every((x) => /^[A-Z_][A-Z0-9_]*=/.test(x)));
    const [program, ...args] = command.slice(env.length);
    assert.ok(program !== undefined, `a shell line sets variables only: ${line}`);
    if (program === "npm") checkNpm(args, line, context.cwd);
    else if (program === "npx" && args[0] === "loopwise") checkLoopwise(args.slice(1), env, context, line);
    else if (program === "npx") assert.ok(args[0]! in (pkg.devDependencies ?? {}), `npx of a package the project does not install: ${line}`);
    else if (program === "node") checkNodeTest(args, context, line);
    else if (program === "curl") context.served.requests.push(curlRequest(args, line));
    else assert.ok(harmless.has(program), `the docs test does not know how to check "${program}" in: ${line}`);
  }
}

/** The folder of the project `loopwise init` writes (docs/first-steps.md): npm there runs that project's scripts. */
const initProject = join(root, "examples/project");

function checkNpm(args: string[], line: string, cwd: string): void {
  const [sub, ...rest] = args;
  if (cwd === initProject) {
    assert.ok(sub === "install" ? rest.length === 0 : sub === "start" || sub === "test" || (sub === "run" && rest[0]! in projectScripts), line);
    return;
  }
  const known = new Set([pkg.name, ...Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies })]);
  if (sub === "install" || sub === "i") {
    for (const name of rest) assert.ok(known.has(name), `npm install of a package the project does not know: ${name} (${line})`);
  } else if (sub === "init") {
    assert.deepEqual(rest, ["-y"], line);
  } else if (sub === "pkg") {
    assert.deepEqual(rest, ["set", `type=${pkg.type}`], `only "npm pkg set type=module" is expected: ${line}`);
  } else if (sub === "test") {
    assert.ok(pkg.scripts.test, "package.json has no test script");
  } else if (sub === "run") {
    const [script, dashes, ...scriptArgs] = rest;
    assert.ok(pkg.scripts[script!], `package.json has no script "${script}" (${line})`);
    if (dashes === undefined) return;
    assert.equal(dashes, "--", line);
    // Arguments the script's program must know: each is a literal in the folder of the .ts file it runs.
    const program = /\S+\.ts\b/.exec(pkg.scripts[script!])?.[0];
    assert.ok(program, `cannot tell which file "npm run ${script}" runs, to check its arguments`);
    const folder = join(root, dirname(program));
    const sources = readdirSync(folder, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts"))
      .map((f) => readFileSync(join(folder, f), "utf8"))
      .join("\n");
    for (const arg of scriptArgs) {
      const name = arg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      // A string the program compares with, or the name of a method or key (a scenario).
      const known = new RegExp(`"${name}"|^\\s*(async\\s+)?${name}\\s*[(:]`, "m").test(sources);
      assert.ok(known, `"npm run ${script} -- ${arg}": ${program} does not know "${arg}"`);
    }
  } else {
    assert.fail(`unexpected npm command: ${line}`);
  }
}

function checkLoopwise(args: string[], env: string[], context: ShellContext, line: string): void {
  const [command, ...rest] = args;
  const flags = context.flags.get(command!);
  assert.ok(flags, `"loopwise ${command}" is not a command the CLI lists (${line})`);
  const positionals: string[] = [];
  const given: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (!word.startsWith("--")) {
      positionals.push(word);
      continue;
    }
    const name = word.slice(2);
    assert.ok(flags.has(name), `"loopwise ${command}" has no flag --${name} (${line})`);
    given.push(word);
    if (flags.get(name)) {
      const value = rest[++i];
      assert.ok(value !== undefined && !value.startsWith("--"), `--${name} needs a value (${line})`);
      given.push(value);
    }
  }
  if (command === "demo" || command === "init") {
    assert.equal(positionals.length, 0, line);
    return;
  }
  assert.equal(positionals.length, 1, `"loopwise ${command}" takes one MODULE[:EXPORT] (${line})`);
  const [file, exportName = "app"] = positionals[0]!.split(":");
  const module = resolve(context.cwd, file!);
  assert.ok(existsSync(module), `no such module: ${file} (${line})`);
  if (command === "run") context.served.apps.push({ module, exportName, flags: given, env });
}

function checkNodeTest(args: string[], context: ShellContext, line: string): void {
  assert.deepEqual(args.slice(0, 3), ["--import", "tsx", "--test"], `only "node --import tsx --test FILE" is expected: ${line}`);
  for (const file of args.slice(3)) assert.ok(existsSync(resolve(context.cwd, file)), `no such test file: ${file} (${line})`);
}

function curlRequest(args: string[], line: string): { method: string; url: string } {
  const url = args.find((a) => /^(https?:\/\/)?(localhost|127\.0\.0\.1)[:/]/.test(a));
  assert.ok(url, `curl to no local server: ${line}`);
  const explicit = args.indexOf("-X");
  const posts = args.some((a) => a === "-d" || a === "--data" || a === "-F" || a === "--form");
  const method = explicit >= 0 ? args[explicit + 1]! : posts ? "POST" : "GET";
  return { method, url: url.startsWith("http") ? url : `http://${url}` };
}
