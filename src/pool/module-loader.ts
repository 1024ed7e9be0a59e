import { pathToFileURL } from "node:url";
import { isAbsolute, resolve } from "node:path";

const typeScriptFile = /\.(?:c|m)?tsx?(?:$|\?)/;
let tsxRegistered = false;

/** Registers tsx once per thread, so TypeScript apps load the same way in the main thread and in workers. */
export async function ensureTypeScriptLoader(moduleUrl: string): Promise<void> {
  if (tsxRegistered || !typeScriptFile.test(moduleUrl)) return;
  tsxRegistered = true;
  const { register } = await import("tsx/esm/api");
  register();
}

/** Turns a path (relative to cwd) or a file URL into a file URL. */
export function toModuleUrl(pathOrUrl: string): string {
  if (pathOrUrl.startsWith("file:")) return pathOrUrl;
  return pathToFileURL(isAbsolute(pathOrUrl) ? pathOrUrl : resolve(process.cwd(), pathOrUrl)).href;
}

export async function importModule(moduleUrl: string): Promise<Record<string, unknown>> {
  await ensureTypeScriptLoader(moduleUrl);
  return (await import(moduleUrl)) as Record<string, unknown>;
}
