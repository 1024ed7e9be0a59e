// How the `loopwise` command loads a TypeScript app in its main thread. Node 22.18+ strips types
// itself: no loader and no hooks thread, so the server starts sooner than with tsx (its stripper,
// a WebAssembly module, costs some memory instead; `npm run bench -- ts-start`). It runs only the
// TypeScript that is plain JavaScript once its types are erased, and it fails in ways this
// process cannot take back: a module that did not parse or link (a type imported without
// `import type`, a decorator) stays failed for this process, tsx or not. So Node loads the app
// only when its tsconfig (the one tsx would read) says the code is written for that
// (`verbatimModuleSyntax`, no path aliases, no legacy decorators), as TypeScript itself advises
// for Node; tsx loads the rest, and whatever Node turns down before running anything (an enum,
// a `./x.js` import of `x.ts`).
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { mainThreadTsconfig } from "../pool/compile-app.js";
import { type ModuleLoader, importModule, isTypeScript, nodeStripsTypes } from "../pool/module-loader.js";

/** What Node refuses before it runs any of the app's modules, so tsx can still load them. */
const tsxCanTakeOver = new Set([
  "ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX",
  "ERR_MODULE_NOT_FOUND",
  "ERR_UNKNOWN_FILE_EXTENSION",
  "ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING",
  "ERR_UNSUPPORTED_DIR_IMPORT",
]);

interface CompilerOptions {
  verbatimModuleSyntax?: boolean;
  experimentalDecorators?: boolean;
  paths?: unknown;
}

/** JSON with comments and trailing commas, as tsconfig files are written. */
function parseJsonc(text: string): unknown {
  const withoutComments = text.replace(/("(?:\\.|[^"\\])*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_match, string: string | undefined) => string ?? "");
  return JSON.parse(withoutComments.replace(/,(\s*[}\]])/g, "$1"));
}

/** The compiler options of a tsconfig file, those it extends included (the nearer ones win). */
function compilerOptions(file: string, depth = 0): CompilerOptions {
  if (depth > 10) return {};
  const config = parseJsonc(readFileSync(file, "utf8")) as { extends?: string | string[]; compilerOptions?: CompilerOptions };
  const bases = config.extends === undefined ? [] : [config.extends].flat();
  let options: CompilerOptions = {};
  for (const base of bases) {
    const path = base.startsWith(".") ? resolve(dirname(file), base) : createRequire(file).resolve(base);
    options = { ...options, ...compilerOptions(existsSync(path) ? path : `${path}.json`, depth + 1) };
  }
  return { ...options, ...config.compilerOptions };
}

/** Whether the app's TypeScript is written to run as Node strips it. */
export function writtenForTypeStripping(tsconfig: string | undefined): boolean {
  if (tsconfig === undefined) return false;
  try {
    const options = compilerOptions(tsconfig);
    return options.verbatimModuleSyntax === true && options.experimentalDecorators !== true && options.paths === undefined;
  } catch {
    return false; // unreadable: tsx reads it its own way
  }
}

/** How the main thread loads the module: "native" where Node can, else "tsx" (which leaves JavaScript alone). */
export function mainThreadLoader(moduleUrl: string): ModuleLoader {
  return isTypeScript(moduleUrl) && nodeStripsTypes() && writtenForTypeStripping(mainThreadTsconfig()) ? "native" : "tsx";
}

/** Imports the app module in the main thread; resolves with its namespace and how it was loaded. */
export async function importAppModule(moduleUrl: string): Promise<{ namespace: Record<string, unknown>; loader: ModuleLoader }> {
  const loader = mainThreadLoader(moduleUrl);
  if (loader === "native") {
    try {
      return { namespace: await importModule(moduleUrl, "native"), loader };
    } catch (error) {
      // Anything may be thrown, null included.
      if (!tsxCanTakeOver.has((error as NodeJS.ErrnoException | null)?.code ?? "")) throw error;
    }
  }
  return { namespace: await importModule(moduleUrl, "tsx"), loader: "tsx" };
}
