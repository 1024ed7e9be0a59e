// Scenario `check`: how long `loopwise check` takes on an app of 50 routes (and of 200), beside
// what a pre-commit hook runs anyway: `loopwise routes` (loading the app alone) and `tsc --noEmit`
// over the same files. The app is written for the run: five routers of ten routes (or twenty
// of ten), async and plain handlers, dependencies, Zod schemas and helper chains across modules,
// one blocking call on the loop per router.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { BenchContext } from "../lib/context.ts";
import { fmt, printTable, type Row } from "../lib/table.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(root, "dist/cli/main.js");
const tsc = join(root, "node_modules/typescript/bin/tsc");

function router(i: number): string {
  const routes: string[] = [];
  for (let r = 0; r < 10; r++) {
    const path = `/r${i}/item${r}/:id`;
    if (r === 0) routes.push(`router.get("${path}", async (req) => ({ config: readConfig${i}(req.params.id) }));`);
    else if (r % 3 === 0) routes.push(`router.get("${path}", (req) => ({ id: req.params.id, size: statSync("/dev/null").size }));`);
    else if (r % 3 === 1) routes.push(`router.get("${path}", { deps: { user } }, async (req, { user }) => ({ id: req.params.id, user }));`);
    else routes.push(`router.post("${path}", { body: Item }, async (req) => ({ id: req.params.id, total: await total${i}(req.body.count) }));`);
  }
  return `import { readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { Router, depends } from "loopwise";
import { format } from "./shared.ts";

export const router = new Router();
const Item = z.object({ name: z.string(), count: z.number().int() });
const user = depends(async function user(req) {
  return format(String(req.headers["x-user"] ?? "anonymous"));
});
function parse${i}(text: string): number {
  return text.length;
}
function readConfig${i}(id: string): number {
  return parse${i}(readFileSync("/dev/null", "utf8")) + id.length;
}
async function total${i}(count: number): Promise<number> {
  return (await readFile("/dev/null", "utf8")).length + count;
}
${routes.join("\n")}
`;
}

/** An app of `routers` × 10 routes, written to a fresh folder under bench/ (so `loopwise` and `zod` resolve). */
function writeApp(routers: number): { dir: string; main: string; files: string[] } {
  const dir = mkdtempSync(join(root, "bench", ".check-app-"));
  writeFileSync(join(dir, "shared.ts"), `export function format(name: string): string {\n  return name.trim().toLowerCase();\n}\n`);
  const files = [join(dir, "shared.ts")];
  const imports: string[] = [];
  for (let i = 0; i < routers; i++) {
    writeFileSync(join(dir, `router${i}.ts`), router(i));
    files.push(join(dir, `router${i}.ts`));
    imports.push(`import { router as router${i} } from "./router${i}.ts";`);
  }
  const main = join(dir, "main.ts");
  writeFileSync(
    main,
    `${imports.join("\n")}\nimport { App } from "loopwise";\n\nexport const app = new App();\n${imports.map((_, i) => `app.include(router${i});`).join("\n")}\n`,
  );
  return { dir, main, files: [main, ...files] };
}

/** Prints the process's CPU time (every thread's) to stderr as it exits: the figure a busy machine moves least. */
const reportCpu = `data:text/javascript,${encodeURIComponent(
  'process.on("exit", () => { const u = process.cpuUsage(); process.stderr.write("\\ncpu-us " + (u.user + u.system) + "\\n"); });',
)}`;

interface Timed {
  ms: number;
  cpuMs: number;
  stdout: string;
}

/** A node command run to its end, `rounds` times: the best wall time and the best CPU time (a shared machine only ever adds). */
function best(rounds: number, args: string[], ok: (code: number) => boolean): Timed {
  let found: Timed | undefined;
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    const run = spawnSync(process.execPath, ["--import", reportCpu, ...args], { encoding: "utf8", cwd: root, timeout: 120_000 });
    const ms = performance.now() - start;
    if (!ok(run.status ?? -1)) throw new Error(`${args.join(" ")} exited ${run.status}: ${run.stdout}${run.stderr}`);
    const cpuMs = Number(/cpu-us (\d+)/.exec(run.stderr)?.[1]) / 1000;
    found = { ms: Math.min(ms, found?.ms ?? ms), cpuMs: Math.min(cpuMs, found?.cpuMs ?? cpuMs), stdout: run.stdout };
  }
  return found!;
}

export async function check(ctx: BenchContext): Promise<void> {
  const rows: Row[] = [];
  let fifty: { wall: number; cpu: number } | undefined;
  for (const routers of [5, 20]) {
    const app = writeApp(routers);
    try {
      const routes = best(ctx.rounds, [cli, "routes", app.main], (code) => code === 0);
      const checked = best(ctx.rounds, [cli, "check", app.main, "--json"], (code) => code === 1);
      const report = JSON.parse(checked.stdout) as { findings: unknown[]; loopCode: number };
      if (report.findings.length !== routers) throw new Error(`expected ${routers} findings, got ${report.findings.length}`);
      const typecheck = best(
        ctx.rounds,
        [
          tsc,
          "--noEmit",
          "--strict",
          "--module",
          "nodenext",
          "--moduleResolution",
          "nodenext",
          "--target",
          "es2022",
          "--types",
          "node",
          "--allowImportingTsExtensions",
          "--skipLibCheck",
          ...app.files,
        ],
        (code) => code === 0,
      );
      rows.push({
        app: `${routers * 10} routes in ${routers + 2} modules`,
        "loop-lane functions read": String(report.loopCode),
        "loopwise check s (CPU s)": `${(checked.ms / 1000).toFixed(2)} (${(checked.cpuMs / 1000).toFixed(2)})`,
        "loopwise routes s (CPU s)": `${(routes.ms / 1000).toFixed(2)} (${(routes.cpuMs / 1000).toFixed(2)})`,
        "tsc --noEmit s (CPU s)": `${(typecheck.ms / 1000).toFixed(2)} (${(typecheck.cpuMs / 1000).toFixed(2)})`,
        "check / tsc, CPU": fmt.ratio(checked.cpuMs / typecheck.cpuMs),
      });
      if (routers === 5) fifty = { wall: checked.ms, cpu: checked.cpuMs };
    } finally {
      rmSync(app.dir, { recursive: true, force: true });
    }
  }
  printTable(`Each command whole, in a fresh process: wall time (CPU time of all its threads), best of ${ctx.rounds} rounds`, rows, ctx.markdown);
  ctx.target(
    "(check) a 50-route app is checked within 5 s of CPU, fit for a pre-commit hook",
    fifty!.cpu < 5000,
    `${(fifty!.cpu / 1000).toFixed(2)} s of CPU, ${(fifty!.wall / 1000).toFixed(2)} s wall`,
  );
}
