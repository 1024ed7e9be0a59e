// What `npm i` of a package brings into a new project: node_modules' size on disk (as `du -s`
// counts it) and the packages in the tree. Used by the packaging test (Loopwise's budget) and by
// `npm run bench -- install` (Loopwise beside Fastify, Hono and Express).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../", import.meta.url));

export interface Footprint {
  /** Disk usage of node_modules, bytes (allocated blocks, as `du -s`). */
  bytes: number;
  /** Every installed package, as `name@version` (a package nested twice counts twice). */
  packages: string[];
}

/** Allocated bytes under `path`; a file linked twice (esbuild links its binary into esbuild/bin) counts once, as for `du`. */
function diskUsage(path: string, seen = new Set<string>()): number {
  const stat = lstatSync(path);
  const inode = `${stat.dev}:${stat.ino}`;
  if (seen.has(inode)) return 0;
  seen.add(inode);
  if (!stat.isDirectory()) return stat.blocks * 512;
  return readdirSync(path).reduce((sum, name) => sum + diskUsage(join(path, name), seen), stat.blocks * 512);
}

/** The packages under a node_modules folder, nested ones included. */
function packagesIn(nodeModules: string): string[] {
  if (!existsSync(nodeModules)) return [];
  const found: string[] = [];
  for (const name of readdirSync(nodeModules)) {
    if (name.startsWith(".")) continue;
    const dirs = name.startsWith("@") ? readdirSync(join(nodeModules, name)).map((inner) => join(name, inner)) : [name];
    for (const dir of dirs) {
      const manifest = join(nodeModules, dir, "package.json");
      if (!existsSync(manifest)) continue;
      const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version: string };
      found.push(`${dir}@${version}`, ...packagesIn(join(nodeModules, dir, "node_modules")));
    }
  }
  return found;
}

export function footprint(project: string): Footprint {
  const nodeModules = join(project, "node_modules");
  return { bytes: diskUsage(nodeModules), packages: packagesIn(nodeModules) };
}

export const megabytes = (bytes: number) => bytes / 2 ** 20;

/** The package name of `name@version`. */
export const nameOf = (entry: string) => entry.slice(0, entry.lastIndexOf("@"));

export interface InstalledProject {
  dir: string;
  footprint: Footprint;
  /** npm's output (warnings about install scripts included). */
  log: string;
}

/** A new ES module project in a temporary folder (as `npm init -y && npm pkg set type=module` makes), then `npm i ...specs` there. */
export function installInNewProject(specs: string[], prefix = "loopwise-install-"): InstalledProject {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "new-project", version: "1.0.0", private: true, type: "module" }, null, 2)}\n`);
  const npm = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...specs], {
    cwd: dir,
    encoding: "utf8",
    timeout: 300_000,
  });
  // npm prints its warnings (install scripts among them) on stderr.
  const log = `${npm.stdout ?? ""}${npm.stderr ?? ""}`;
  if (npm.status !== 0) throw new Error(`npm install ${specs.join(" ")} failed in ${dir}:\n${log}`);
  return { dir, footprint: footprint(dir), log };
}

/**
 * Packs this repository as `npm publish` would (the package.json without its `prepare` script,
 * scripts/pack-manifest.mjs) from the dist/ already built, without touching the working copy:
 * packed once as it is, unpacked, stripped and packed again. Returns the tarball's path.
 */
export function packLoopwise(into: string): string {
  mkdirSync(into, { recursive: true });
  const quiet = { encoding: "utf8" as const, stdio: ["ignore", "pipe", "pipe"] as ["ignore", "pipe", "pipe"] };
  const packed = (cwd: string, destination: string) => {
    const [result] = JSON.parse(execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", destination], { ...quiet, cwd }));
    return join(destination, (result as { filename: string }).filename);
  };
  const staging = mkdtempSync(join(tmpdir(), "loopwise-pack-"));
  try {
    const first = packed(repo, staging);
    execFileSync("tar", ["xzf", first, "-C", staging], quiet);
    execFileSync(process.execPath, [join(repo, "scripts/pack-manifest.mjs"), "strip", join(staging, "package")], quiet);
    return packed(join(staging, "package"), into);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** What `npm i loopwise zod` may take: esbuild (for tsx) is 11 MB of it and zod 8 MB; it was 35.1 MB when last raised. */
export const installBudget = { megabytes: 38, packages: 45 };
