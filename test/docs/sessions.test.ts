// Runs every console block of the docs: serves the app its <!-- session --> marker names through
// the real CLI, runs each `$` line against it and compares what it prints with what the page
// shows (a line "..." stands for any number of lines, such as response headers that vary).
// `npx loopwise` runs the built command of this checkout: in an app it finds the installed
// package, but here, where loopwise is not a dependency of itself, npx would install the
// repository into npm's cache first (running its build), slowly and racing its other runs.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { cliPath, spawnServer } from "../helpers.ts";
import { blocksOf, pages, root, type Block } from "./markdown.ts";

const exec = promisify(execFile);

/** Each `$` command of a console block with the lines shown after it. */
function steps(code: string): { command: string; expected: string[] }[] {
  const result: { command: string; expected: string[] }[] = [];
  for (const line of code.split("\n")) {
    if (line.startsWith("$ ")) result.push({ command: line.slice(2), expected: [] });
    else if (line.trim() !== "") result.at(-1)?.expected.push(line.trimEnd());
  }
  return result;
}

/** Whether `actual` reads as `expected`, where an expected "..." matches any run of lines. */
export function matches(expected: string[], actual: string[]): boolean {
  if (expected.length === 0) return actual.length === 0;
  const [first, ...rest] = expected;
  if (first === "...") return actual.some((_, i) => matches(rest, actual.slice(i))) || matches(rest, []);
  return actual[0] === first && matches(rest, actual.slice(1));
}

/** The blocks of one page that serve the same app the same way share one server. */
function sessionsOf(page: string): Block[][] {
  const groups = new Map<string, Block[]>();
  for (const block of blocksOf(page).filter((b) => b.lang === "console")) {
    const key = `${block.markers.cwd ?? "."} ${block.markers.session!.join(" ")}`;
    groups.set(key, [...(groups.get(key) ?? []), block]);
  }
  return [...groups.values()];
}

async function runSessions(blocks: Block[]): Promise<void> {
  const first = blocks[0]!;
  const words = first.markers.session!;
  const env = Object.fromEntries(words.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => w.split("=") as [string, string]));
  const [spec, ...args] = words.slice(Object.keys(env).length);
  const [file, exportName = "app"] = spec!.split(":");
  const cwd = resolve(root, first.markers.cwd ?? ".");
  // One worker unless the page says otherwise: nothing shown depends on the pool's size, and
  // each worker that loads a TypeScript app costs the test a few hundred milliseconds.
  const poolSize = args.includes("--pool-size") ? [] : ["--pool-size", "1"];
  const server = await spawnServer(`${resolve(cwd, file!)}:${exportName}`, [...args, ...poolSize], env);
  try {
    const { host } = new URL(server.url);
    for (const block of blocks) {
      for (const { command, expected } of steps(block.code)) {
        const line = command.replace(/\b(localhost|127\.0\.0\.1):8000\b/g, host).replace(/\bnpx loopwise\b/g, `node ${cliPath}`);
        const { stdout } = await exec("bash", ["-c", line], { cwd, timeout: 30_000 });
        const actual = stdout
          .split(/\r?\n/)
          .map((l) => l.trimEnd())
          .filter((l) => l !== "");
        const where = `${block.page}:${block.line}`;
        assert.ok(matches(expected, actual), `${where}: $ ${command}\nthe page shows:\n${expected.join("\n")}\nit printed:\n${actual.join("\n")}`);
      }
    }
  } finally {
    assert.equal(await server.stop(), 0, `the server of ${first.page}:${first.line} did not stop cleanly:\n${server.stderr.join("\n")}`);
  }
}

// Two at a time: each is mostly a child process starting up, on a machine with two cores.
describe("console sessions in the docs", { concurrency: 2 }, () => {
  for (const page of pages()) {
    for (const blocks of sessionsOf(page)) {
      test(blocks.map((b) => `${page}:${b.line}`).join(", "), () => runSessions(blocks));
    }
  }
});

test("the output matcher lets ... stand for any lines", () => {
  assert.ok(matches(["HTTP/1.1 200 OK", "...", "{}"], ["HTTP/1.1 200 OK", "a: 1", "b: 2", "{}"]));
  assert.ok(matches(["a", "...", "b"], ["a", "b"]));
  assert.ok(!matches(["a", "...", "b"], ["a", "c"]));
  assert.ok(!matches(["a"], ["a", "b"]));
});
