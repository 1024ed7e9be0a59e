// Bundles the files that threads, processes and users load by path (after `tsc` emitted the
// per-file JavaScript and the .d.ts): each pool worker then loads the package as a few files
// instead of some 75 modules, which costs it a third less CPU to start.
// One build with code splitting, so the entries share their modules (one AsyncLocalStorage, one
// registry per thread); npm packages stay imports. Entries overwrite tsc's copies at their usual
// paths (dist/index.js, dist/pool/worker-entry.js, ...); shared code goes to dist/chunks/.
import { chmodSync, readFileSync, rmSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
process.chdir(root);

const entryPoints = [
  // The package's entries: the core, and the subpaths of package.json's `exports`.
  "src/index.ts",
  "src/testing.ts",
  "src/client.ts",
  "src/security.ts",
  "src/middleware.ts",
  "src/queue.ts",
  // The `loopwise` command, also started as a process (--reload, --workers, demo).
  "src/cli/main.ts",
  // Loaded by path, as threads: new URL("../pool/worker-entry.js", import.meta.url) and the like.
  "src/pool/worker-entry.ts",
  "src/monitor/watchdog.ts",
  "src/queue/consumer-thread.ts",
];

rmSync("dist/chunks", { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints,
  outbase: "src",
  outdir: "dist",
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  // Names as esbuild leaves them: one clashing with another module's is renamed (`now2`), the
  // same in every thread, so the signatures threads compare still agree. keepNames would wrap
  // every named closure in a defineProperty call as it is made, per request on hot paths: about
  // a tenth of the loop lane's CPU per request. The names users see are set explicitly (the
  // built-in dependencies), and an app's own code is compiled by compile-app.ts with its names kept.
  keepNames: false,
  sourcemap: true,
  // Like tsc's maps: the sources ship with the package, and a worker with source maps on reads less.
  sourcesContent: false,
  metafile: true,
  logLevel: "warning",
});

// Code that finds files by its own location (new URL("../pool/worker-entry.js", import.meta.url))
// is written to work from one folder below the package's code (src/pool/, dist/pool/, dist/chunks/):
// it must not land in dist/index.js. createRequire(import.meta.url) finds packages from anywhere.
const locatesFiles = (file) =>
  readFileSync(file, "utf8")
    .replace(/^\s*(\/\/|\*).*$/gm, "")
    .replaceAll("createRequire(import.meta.url)", "")
    .includes("import.meta");
for (const [output, { inputs }] of Object.entries(result.metafile.outputs)) {
  if (!output.endsWith(".js") || relative("dist", output).includes("/")) continue;
  const misplaced = Object.keys(inputs).filter(locatesFiles);
  if (misplaced.length > 0) throw new Error(`${misplaced.join(", ")} find files next to them, but were bundled into ${output}, a folder up`);
}

chmodSync("dist/cli/main.js", 0o755);
