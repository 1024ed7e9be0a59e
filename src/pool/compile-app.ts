// Compiling a TypeScript app once, in the main thread, into JavaScript that workers import with
// no loader. A TypeScript loader (tsx) runs its hooks in a thread of its own in every thread that
// registers it, so on Node 20 each worker paid about 160 ms of CPU and 28 MB for it; compiled,
// a worker costs what the app itself needs.
//
// Each TypeScript module the app reaches becomes one JavaScript module in a private folder
// (`<root>/<its absolute path>.mjs`, a source map beside it), with every import rewritten to
// where it resolves from the source: a TypeScript module to its compiled copy, anything else
// (packages, JavaScript, JSON, the loopwise package) to its own file, so it is the same module
// a main thread would load. `import.meta.url`, `.filename` and `.dirname` keep naming the source.
// Stack traces point at the .ts file through the source maps, and the worker maps compiled
// URLs back to source URLs (identity.ts), so registration keys match the main thread's.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire, isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type * as Esbuild from "esbuild";

/** What a worker needs to import the compiled app. */
export interface CompiledModules {
  /** The compiled copy of the app's module. */
  entryUrl: string;
  /** Compiled module URL → its source's URL. */
  sources: Record<string, string>;
  /**
   * Modules the worker imports before the compiled app, with source maps still off: this
   * package's own entries (the core and its subpaths) that the app imports. Mapping stacks costs
   * a parse of every module's map as it loads (about 10 ms of a worker's start for the package's
   * own maps); only the app's compiled modules need it, to name their .ts sources.
   */
  preload: string[];
}

export interface CompiledApp extends CompiledModules {
  /** Removes the compiled files (also done when the process exits). */
  dispose(): void;
}

/** Compiled as ESM modules of their own; `.cts` (CommonJS) is left to a loader. */
const compiledExtension = /\.(?:ts|tsx|mts)$/;
const resolveExtensions = [".ts", ".tsx", ".mts", ".js", ".mjs", ".jsx", ".cjs", ".json"];

/** Compiles in progress in this thread (pools starting at once, as TestClients in one test file may). */
let compiling = 0;

/** esbuild is tsx's own dependency: found from tsx, so it is there whatever the install layout. */
function loadEsbuild(): typeof Esbuild {
  const fromHere = createRequire(import.meta.url);
  return createRequire(fromHere.resolve("tsx/package.json"))("esbuild") as typeof Esbuild;
}

/** The tsconfig tsx uses for the main thread: TSX_TSCONFIG_PATH, else the nearest tsconfig.json from the working folder. */
export function mainThreadTsconfig(): string | undefined {
  if (process.env.TSX_TSCONFIG_PATH) return resolve(process.env.TSX_TSCONFIG_PATH);
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const candidate = join(dir, "tsconfig.json");
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Custom export conditions Node was started with (`--conditions`, `-C`), so packages resolve as in the main thread. */
function userConditions(): string[] {
  const argv = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  const conditions: string[] = [];
  argv.forEach((arg, i) => {
    const inline = /^(?:--conditions|-C)=(.+)$/.exec(arg);
    if (inline) conditions.push(inline[1]!);
    else if ((arg === "--conditions" || arg === "-C") && argv[i + 1]) conditions.push(argv[i + 1]!);
  });
  return conditions;
}

/**
 * Whether Node (and tsx) treat the module as ESM: `.mts`, or `.ts`/`.tsx` under a package.json
 * that says `"type": "module"` (looked up the way Node does, stopping at node_modules). Only
 * those are compiled ahead: a CommonJS one has `require` and `__dirname`, which ESM has not.
 */
function isModuleScope(file: string): boolean {
  if (file.endsWith(".mts")) return true;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (/[\\/]node_modules$/.test(dir)) return false;
    try {
      return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { type?: unknown }).type === "module";
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") return false;
    }
    if (dirname(dir) === dir) return false;
  }
}

/** A data: module naming a source, standing in for `import.meta` in its compiled copy. */
function importMetaModule(file: string): string {
  const values = `export const url=${JSON.stringify(pathToFileURL(file).href)},filename=${JSON.stringify(file)},dirname=${JSON.stringify(dirname(file))};`;
  return `data:text/javascript,${encodeURIComponent(values)}`;
}

const importMeta = "__loopwiseImportMeta";

/**
 * Compiles the TypeScript module at `entryUrl` and every TypeScript module it imports, statically
 * or with `import("literal")`. Rejects if esbuild is missing or a module does not compile.
 */
export async function compileApp(entryUrl: string): Promise<CompiledApp> {
  if (!compiledExtension.test(entryUrl)) throw new Error(`not compiled ahead: ${entryUrl}`);
  const esbuild = loadEsbuild();
  sweepStaleCopies();
  const root = mkdtempSync(join(tmpdir(), `${copyPrefix}${process.pid}-`));
  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  process.once("exit", removeRoot);
  const dispose = () => {
    process.removeListener("exit", removeRoot);
    removeRoot();
  };
  compiling++;
  try {
    const imported = new Set<string>();
    const sources = await compileInto(esbuild, fileURLToPath(entryUrl), root, imported);
    const compiledEntry = Object.keys(sources).find((url) => sources[url] === entryUrl)!;
    return { entryUrl: compiledEntry, sources, preload: packageEntries.filter((entry) => imported.has(entry)), dispose };
  } catch (error) {
    dispose();
    throw error;
  } finally {
    // Its service process is not left running beside the server once every compile is done
    // (stopped under a compile still running, esbuild would never answer that one).
    if (--compiling === 0) await esbuild.stop();
  }
}

const copyPrefix = "loopwise-app-";

/** This package's own entries, the core and its subpaths (dist/index.js..., or src/index.ts... when run from the sources). */
const packageEntries = ["index", "testing", "security", "middleware", "queue"].map(
  (entry) => new URL(`../${entry}${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href,
);

/**
 * Removes the copies of processes that were killed before they could (SIGKILL, a crash of Node
 * itself): this user's, an hour old, whose process is gone. Each process compiles into a folder
 * of its own (mkdtemp: private to this user), named with its pid.
 */
function sweepStaleCopies(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir()).filter((name) => name.startsWith(copyPrefix));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^loopwise-app-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || processExists(pid)) continue;
    const path = join(tmpdir(), name);
    try {
      const stat = statSync(path);
      if (stat.uid !== process.getuid?.() || Date.now() - stat.mtimeMs < 3_600_000) continue;
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Another process swept it first, or it is not ours to remove.
    }
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Where the compiled copy of `file` goes. */
function compiledPath(root: string, file: string): string {
  return join(root, `${file.replace(/^([A-Za-z]):/, "$1").replace(/^[\\/]+/, "")}.mjs`);
}

/**
 * Compiles `entry` and the TypeScript modules it reaches into `root`, a round per wave of newly
 * found modules (each module is an entry point of its own, so it stays a module of its own);
 * returns compiled URL → source URL.
 */
async function compileInto(esbuild: typeof Esbuild, entry: string, root: string, imported: Set<string>): Promise<Record<string, string>> {
  const sources: Record<string, string> = {};
  const found = new Set([entry]);
  const options = buildOptions(root);
  for (let batch = [entry]; batch.length > 0; ) {
    const discovered: string[] = [];
    const compileLater = (file: string) => {
      if (found.has(file)) return;
      found.add(file);
      discovered.push(file);
    };
    const result = await esbuild.build({ ...options, entryPoints: batch, plugins: [rewriteImports(root, compileLater, imported)] });
    writeOutputs(result, root, sources);
    batch = discovered;
  }
  return sources;
}

function buildOptions(root: string): Esbuild.BuildOptions & { write: false; metafile: true } {
  const tsconfig = mainThreadTsconfig();
  return {
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "node",
    target: `node${process.versions.node}`,
    // As tsx compiles: function and class names kept (the app's signature names dependencies).
    keepNames: true,
    sourcemap: "external",
    sourcesContent: Boolean(process.env.NODE_V8_COVERAGE),
    outdir: root,
    outExtension: { ".js": ".mjs" },
    mainFields: ["main"],
    conditions: userConditions(),
    resolveExtensions,
    ...(tsconfig ? { tsconfig } : { tsconfigRaw: "{}" }),
    define: {
      "import.meta.url": `${importMeta}.url`,
      "import.meta.filename": `${importMeta}.filename`,
      "import.meta.dirname": `${importMeta}.dirname`,
    },
    logLevel: "silent",
  };
}

/** Writes each compiled module where compiledPath() says, its source map beside it, and notes its source. */
function writeOutputs(result: Esbuild.BuildResult<{ write: false; metafile: true }>, root: string, sources: Record<string, string>): void {
  for (const [output, meta] of Object.entries(result.metafile.outputs)) {
    if (!meta.entryPoint) continue;
    const source = resolve(meta.entryPoint);
    const target = compiledPath(root, source);
    const code = result.outputFiles.find((f) => f.path === resolve(output))!.text;
    const map = JSON.parse(result.outputFiles.find((f) => f.path === resolve(`${output}.map`))!.text) as { sources: string[] };
    // Sources as absolute URLs: the map is read from where the copy is, not where esbuild put it.
    map.sources = map.sources.map((s) => new URL(s, pathToFileURL(resolve(output))).href);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(`${target}.map`, JSON.stringify(map));
    writeFileSync(target, `${code}//# sourceMappingURL=${encodeURIComponent(target.slice(dirname(target).length + 1))}.map\n`);
    sources[pathToFileURL(target).href] = pathToFileURL(source).href;
  }
}

/** Every import stays an import (each module is compiled alone), pointed at what it resolves to; `imported` collects the URLs of those not compiled. */
function rewriteImports(root: string, compileLater: (file: string) => void, imported: Set<string>): Esbuild.Plugin {
  const resolving = {};
  return {
    name: "loopwise-rewrite-imports",
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === "entry-point" || args.pluginData === resolving) return undefined;
        if (isBuiltin(args.path) || /^(?:data|https?|node):/.test(args.path)) return { path: args.path, external: true };
        const path = args.path.startsWith("file:") ? fileURLToPath(args.path) : args.path;
        const found = await build.resolve(path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: resolving,
          with: args.with,
        });
        // Left as written: Node reports it as it would have in the main thread.
        if (found.errors.length > 0 || found.external || !found.path) return { path: args.path, external: true };
        if (!compiledExtension.test(found.path)) {
          const url = pathToFileURL(found.path).href;
          imported.add(url);
          return { path: url, external: true };
        }
        compileLater(found.path);
        return { path: pathToFileURL(compiledPath(root, found.path)).href, external: true };
      });
      // `import.meta` of a compiled module names its source: `define` points it at a data: module that says so.
      build.onLoad({ filter: compiledExtension }, async (args) => {
        if (!isModuleScope(args.path)) return { errors: [{ text: `${args.path} is CommonJS here (no "type": "module"); left to tsx` }] };
        let contents = await readFile(args.path, "utf8");
        if (contents.includes("import.meta")) {
          // Appended, so no line moves; imports are hoisted whatever their place.
          contents += `\n;import * as ${importMeta} from ${JSON.stringify(importMetaModule(args.path))};\n`;
        }
        return { contents, loader: extname(args.path) === ".tsx" ? "tsx" : "ts" };
      });
    },
  };
}
