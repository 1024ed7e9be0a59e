// Importing the app module, TypeScript included, in the main thread and in workers.
import { pathToFileURL } from "node:url";
import { isAbsolute, resolve } from "node:path";
import type { CompiledModules } from "./compile-app.js";
import { adoptCompiledSources } from "./identity.js";

const typeScriptFile = /\.(?:c|m)?tsx?(?:$|\?)/;
let tsxRegistered = false;
/** In a worker: how it loaded the app, and the compiled copy of each source, for the modules it imports later. */
let appLoader: ModuleLoader = "tsx";
let compiledCopies = new Map<string, string>();

/**
 * How a worker loads the app module, cheapest first:
 * - "plain": a JavaScript app, imported as it is;
 * - "compiled": a TypeScript app compiled once by the main thread (compile-app.ts);
 * - "native": Node strips the types itself (22.18+, 23.6+: `process.features.typescript`);
 * - "tsx": tsx registered in the worker, as the main thread does: it loads any app tsx loads,
 *   at the price of a loader thread per worker (on Node 20 about 160 ms of CPU and 28 MB).
 * A worker that cannot start one way starts again the next way (see WorkerSlots).
 */
export type ModuleLoader = "plain" | "compiled" | "native" | "tsx";

/** Whether Node strips types itself. */
export function nodeStripsTypes(): boolean {
  const typescript = (process.features as { typescript?: string | false }).typescript;
  return typescript === "strip" || typescript === "transform";
}

export function isTypeScript(moduleUrl: string): boolean {
  return typeScriptFile.test(moduleUrl);
}

/**
 * Registers tsx once per thread, so TypeScript apps load in any Node version (and with `./x.js`
 * specifiers for `x.ts`); for a JavaScript module only when `always` (a worker told to use tsx:
 * the app imports TypeScript, and a worker does not get tsx from the process's `--import tsx`).
 */
export async function ensureTypeScriptLoader(moduleUrl: string, always = false): Promise<void> {
  if (tsxRegistered || !(always || isTypeScript(moduleUrl))) return;
  tsxRegistered = true;
  const { register } = await import("tsx/esm/api");
  register();
}

/** Turns a path (relative to cwd) or a file URL into a file URL. */
export function toModuleUrl(pathOrUrl: string): string {
  if (pathOrUrl.startsWith("file:")) return pathOrUrl;
  return pathToFileURL(isAbsolute(pathOrUrl) ? pathOrUrl : resolve(process.cwd(), pathOrUrl)).href;
}

/**
 * Imports the module: TypeScript through tsx by default (the main thread), or as a worker was
 * told to (`inWorker`; `compiled` for "compiled").
 */
export async function importModule(
  moduleUrl: string,
  loader: ModuleLoader = "tsx",
  compiled?: CompiledModules,
  inWorker = false,
): Promise<Record<string, unknown>> {
  appLoader = loader;
  if (loader === "compiled" && compiled) {
    for (const url of compiled.preload) await import(url);
    // Stack traces point at the .ts sources through the compiled modules' source maps.
    process.setSourceMapsEnabled(true);
    adoptCompiledSources(compiled.sources);
    compiledCopies = new Map(Object.entries(compiled.sources).map(([copy, source]) => [source, copy]));
    return (await import(compiled.entryUrl)) as Record<string, unknown>;
  }
  if (loader === "tsx") await ensureTypeScriptLoader(moduleUrl, inWorker);
  return (await import(moduleUrl)) as Record<string, unknown>;
}

/**
 * In a worker, imports a module of the app that the app module did not (one that defines a
 * dependency override): the compiled copy where there is one, so that it shares the modules the
 * app loaded; else the way the app was loaded, tsx for TypeScript that was not compiled ahead.
 */
export async function importBesideApp(moduleUrl: string): Promise<Record<string, unknown>> {
  const copy = compiledCopies.get(moduleUrl);
  if (copy) return (await import(copy)) as Record<string, unknown>;
  if (isTypeScript(moduleUrl) && !(appLoader === "native" && nodeStripsTypes())) await ensureTypeScriptLoader(moduleUrl);
  return (await import(moduleUrl)) as Record<string, unknown>;
}

/**
 * The Node flags a worker is started with when it needs no loader: the main thread's, less the
 * ones that load tsx (`--import tsx`, `--loader tsx`, `--require tsx/cjs`), which would start
 * a loader thread in every worker for nothing.
 */
export function flagsWithoutTsx(execArgv: readonly string[]): string[] {
  const tsx = (value: string | undefined) => value !== undefined && /^tsx(?:\/|$)|[\\/]node_modules[\\/]tsx[\\/]/.test(value);
  const takesValue = /^(?:--import|--loader|--experimental-loader|--require|-r)$/;
  const flags: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    if (takesValue.test(arg) && tsx(execArgv[i + 1])) {
      i++;
      continue;
    }
    const inline = /^(--import|--loader|--experimental-loader|--require|-r)=(.*)$/.exec(arg);
    if (inline && tsx(inline[2])) continue;
    flags.push(arg);
  }
  return flags;
}
