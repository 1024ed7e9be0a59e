// Importing the app module, TypeScript included, the same way in the main thread and in workers.
import { pathToFileURL } from "node:url";
import { isAbsolute, resolve } from "node:path";

const typeScriptFile = /\.(?:c|m)?tsx?(?:$|\?)/;
let tsxRegistered = false;

/**
 * How a thread loads a TypeScript app: "native" where Node strips types itself (22.18+, 23.6+:
 * `process.features.typescript`), else "tsx". tsx runs its loader in a thread of its own, in
 * every thread that registers it: natively, a worker costs tens of MB and hundreds of ms less.
 */
export type TypeScriptLoader = "native" | "tsx";

export function defaultTypeScriptLoader(): TypeScriptLoader {
  const typescript = (process.features as { typescript?: string | false }).typescript;
  return typescript === "strip" || typescript === "transform" ? "native" : "tsx";
}

export function isTypeScript(moduleUrl: string): boolean {
  return typeScriptFile.test(moduleUrl);
}

/** Registers tsx once per thread, so TypeScript apps load in any Node version (and with `./x.js` specifiers for `x.ts`). */
export async function ensureTypeScriptLoader(moduleUrl: string): Promise<void> {
  if (tsxRegistered || !isTypeScript(moduleUrl)) return;
  tsxRegistered = true;
  const { register } = await import("tsx/esm/api");
  register();
}

/** Turns a path (relative to cwd) or a file URL into a file URL. */
export function toModuleUrl(pathOrUrl: string): string {
  if (pathOrUrl.startsWith("file:")) return pathOrUrl;
  return pathToFileURL(isAbsolute(pathOrUrl) ? pathOrUrl : resolve(process.cwd(), pathOrUrl)).href;
}

/** Imports the module; a TypeScript one through tsx unless `loader` is "native". */
export async function importModule(moduleUrl: string, loader: TypeScriptLoader = "tsx"): Promise<Record<string, unknown>> {
  if (loader === "tsx") await ensureTypeScriptLoader(moduleUrl);
  return (await import(moduleUrl)) as Record<string, unknown>;
}
