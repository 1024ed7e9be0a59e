import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { App } from "../app/app.js";
import { hostKey } from "../pool/identity.js";
import { toModuleUrl } from "../pool/module-loader.js";
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
  const colon = spec.lastIndexOf(":");
  const hasExport = colon > 0 && !spec.slice(colon + 1).includes("/");
  const modulePath = hasExport ? spec.slice(0, colon) : spec;
  const exportName = hasExport ? spec.slice(colon + 1) : "app";
  if (!modulePath || !exportName) {
    throw new AppImportError(`Import string "${spec}" must be in the form "path/to/module.ts:app".`);
  }
  const moduleUrl = toModuleUrl(modulePath);
  if (!existsSync(fileURLToPath(moduleUrl))) {
    throw new AppImportError(`Could not import module "${modulePath}": no such file.`);
  }
  let namespace: Record<string, unknown>;
  try {
    ({ namespace } = await importAppModule(moduleUrl));
  } catch (error) {
    const wrapped = new AppImportError(`Could not import module "${modulePath}": ${(error as Error).message}`);
    wrapped.stack = (error as Error).stack;
    throw wrapped;
  }
  if (!(exportName in namespace)) {
    const apps = Object.keys(namespace).filter((key) => isApp(namespace[key]));
    const hint = apps.length > 0 ? ` It exports an app as: ${apps.join(", ")}.` : "";
    throw new AppImportError(`Attribute "${exportName}" not found in module "${modulePath}".${hint}`);
  }
  const app = namespace[exportName];
  if (!isApp(app)) {
    throw new AppImportError(`"${modulePath}:${exportName}" is not a Loopwise App (got ${describe(app)}).`);
  }
  return { app, moduleUrl, exportName };
}

function isApp(value: unknown): value is App {
  return typeof value === "object" && value !== null && hostKey in value;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value;
}
