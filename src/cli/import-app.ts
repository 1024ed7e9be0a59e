import { existsSync, readdirSync } from "node:fs";
import { basename, dirname, extname, relative } from "node:path";
import type { App } from "../app/app.js";
import { createdApps, hostKey } from "../pool/identity.js";
import { toModuleUrl } from "../pool/module-loader.js";
import { thrownError, thrownMessage } from "../server/thrown-error.js";
import { importAppModule } from "./typescript-loader.js";

export class AppImportError extends Error {
  override readonly name = "AppImportError";
}

export interface ImportedApp {
  app: App;
  moduleUrl: string;
  exportName: string;
}

/**
 * Loads `path/to/module.ts:export` the way uvicorn loads `main:app` (the export defaults to
 * `app`), with one precise message for each way it can go wrong.
 */
export async function importApp(spec: string): Promise<ImportedApp> {
  const { modulePath, exportName } = splitSpec(spec);
  if (!modulePath || !exportName) {
    throw new AppImportError(`Import string "${spec}" must be in the form "path/to/module.ts:app".`);
  }
  const found = findModule(modulePath);
  if (found === undefined) throw new AppImportError(`Could not import module "${modulePath}": no such file.${nearbyModules(modulePath)}`);
  const moduleUrl = toModuleUrl(found);
  let namespace: Record<string, unknown>;
  try {
    ({ namespace } = await importAppModule(moduleUrl));
  } catch (error) {
    const thrown = thrownError(error, "it");
    const wrapped = new AppImportError(`Could not import module "${modulePath}": ${thrownMessage(thrown, "it")}`);
    if (thrown === error) wrapped.stack = thrown.stack;
    throw wrapped;
  }
  if (!(exportName in namespace)) {
    const apps = Object.keys(namespace).filter((key) => isApp(namespace[key]));
    let hint = apps.length > 0 ? ` It exports an app as: ${apps.join(", ")}.` : "";
    if (apps.length === 0 && createdApps<{ moduleUrl?: string }>().some((app) => app.moduleUrl === moduleUrl)) {
      // Every worker imports the module and finds the app by its export: an app it only creates is out of reach.
      hint = ` The module creates an App but does not export it: write \`export const ${exportName} = new App()\`.`;
    }
    throw new AppImportError(`Attribute "${exportName}" not found in module "${modulePath}".${hint}`);
  }
  const app = namespace[exportName];
  if (!isApp(app)) {
    throw new AppImportError(`"${modulePath}:${exportName}" is not a Loopwise App (got ${describe(app)}).`);
  }
  return { app, moduleUrl, exportName };
}

const moduleExtensions = [".ts", ".mts", ".js", ".mjs"];

/**
 * The file a module path names: as written, or (uvicorn's `main:app`, or Python's dotted
 * `app.main:app`) with a TypeScript or JavaScript extension added, when exactly one such file exists.
 */
function findModule(modulePath: string): string | undefined {
  if (existsSync(modulePath)) return modulePath;
  if (moduleExtensions.includes(extname(modulePath))) return undefined;
  const stems = [modulePath, ...(/^[\w.]+$/.test(modulePath) && modulePath.includes(".") ? [modulePath.replaceAll(".", "/")] : [])];
  const candidates = stems.flatMap((stem) => moduleExtensions.map((ext) => stem + ext)).filter((file) => existsSync(file));
  return candidates.length === 1 ? candidates[0] : undefined;
}

/** " Did you mean main.ts?" or a list of the modules in that folder, to point at the right one. */
function nearbyModules(modulePath: string): string {
  const folder = dirname(modulePath);
  let files: string[];
  try {
    files = readdirSync(folder).filter((name) => moduleExtensions.includes(extname(name)) && !name.endsWith(".d.ts"));
  } catch {
    return "";
  }
  const wanted = basename(modulePath, extname(modulePath));
  const same = files.filter((name) => basename(name, extname(name)) === wanted);
  const shown = (same.length > 0 ? same : files).slice(0, 5).map((name) => relative(".", `${folder}/${name}`) || name);
  if (shown.length === 0) return "";
  return same.length > 0 ? ` Did you mean ${shown.join(" or ")}?` : ` Modules in ${folder === "." ? "this folder" : folder}: ${shown.join(", ")}.`;
}

/** `path/to/module.ts:export` → its two parts; the export defaults to `app`. */
export function splitSpec(spec: string): { modulePath: string; exportName: string } {
  const colon = spec.lastIndexOf(":");
  const hasExport = colon > 0 && !spec.slice(colon + 1).includes("/");
  return { modulePath: hasExport ? spec.slice(0, colon) : spec, exportName: hasExport ? spec.slice(colon + 1) : "app" };
}

function isApp(value: unknown): value is App {
  return typeof value === "object" && value !== null && hostKey in value;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value;
}
