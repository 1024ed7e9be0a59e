// Scenario `install`: what `npm i` brings into a new project, Loopwise (packed from this
// repository as it would be published) beside Fastify, Hono and Express, each in a new folder
// from the npm registry: node_modules' size on disk and the packages in it.
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchContext } from "../lib/context.ts";
import { installBudget, installInNewProject, megabytes, nameOf, packLoopwise } from "../lib/install-footprint.ts";
import { fmt, printTable, type Row } from "../lib/table.ts";

const budget = installBudget;

export async function install(context: BenchContext): Promise<void> {
  const tarball = packLoopwise(join(tmpdir(), "loopwise-bench-pack"));
  const cases: { name: string; specs: string[] }[] = [
    { name: "loopwise + zod", specs: [tarball, "zod"] },
    { name: "loopwise", specs: [tarball] },
    { name: "fastify", specs: ["fastify"] },
    { name: "hono + @hono/node-server", specs: ["hono", "@hono/node-server"] },
    { name: "express", specs: ["express"] },
  ];
  const rows: Row[] = [];
  let fastifyMb = Number.NaN;
  for (const { name, specs } of cases) {
    const project = installInNewProject(specs, "loopwise-bench-install-");
    rmSync(project.dir, { recursive: true, force: true });
    const mb = megabytes(project.footprint.bytes);
    const count = project.footprint.packages.length;
    if (name === "fastify") fastifyMb = mb;
    rows.push({ "npm i": name, "node_modules MB": mb.toFixed(1), packages: String(count) });
    if (name === "loopwise + zod") {
      const besidesZod = project.footprint.packages.filter((p) => nameOf(p) !== "zod").length;
      context.target(
        `install: npm i loopwise zod ≤ ${budget.megabytes} MB and ≤ ${budget.packages} packages besides zod`,
        mb <= budget.megabytes && besidesZod <= budget.packages,
        `${mb.toFixed(1)} MB, ${count} packages (${besidesZod} besides zod)`,
      );
    }
  }
  for (const row of rows) row["vs fastify"] = fmt.ratio(Number(row["node_modules MB"]) / fastifyMb);
  printTable("Install: npm i in a new project (disk usage as du counts it, packages in node_modules)", rows, context.markdown);
  rmSync(tarball, { force: true });
}
