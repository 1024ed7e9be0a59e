// The TypeScript compiler API, loaded only when `loopwise check` runs. It is an optional peer:
// an app may be JavaScript, or checked with TypeScript 7, whose package has no JavaScript API.
import module, { createRequire } from "node:module";
import { join } from "node:path";
import type TS from "typescript";

export type TypeScript = typeof TS;

export class TypeScriptMissingError extends Error {
  override readonly name = "TypeScriptMissingError";
}

/**
 * What to look for, in order: `typescript`, then, for a project on TypeScript 7, a TypeScript 5
 * installed beside it as `typescript5`; each as the app's project sees it, then as this package does.
 */
const names = ["typescript", "typescript5"];

export function loadTypeScript(projectDir: string, alsoFrom: string[] = [import.meta.url]): TypeScript {
  // The compiler is some 9 MB of JavaScript: where Node keeps compiled code between runs (22.1+),
  // a check run again (a pre-commit hook) starts faster.
  (module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  const requirers = [createRequire(join(projectDir, "noop.js")), ...alsoFrom.map((from) => createRequire(from))];
  const found: string[] = [];
  for (const name of names) {
    for (const require of requirers) {
      const version = versionOf(require, name);
      if (version === undefined) continue;
      let ts: Partial<TypeScript> | undefined;
      try {
        ts = require(name) as Partial<TypeScript>;
      } catch {
        // A package with no JavaScript entry at all.
      }
      if (typeof ts?.createProgram === "function") return ts as TypeScript;
      found.push(`${name} ${version}`);
    }
  }
  if (found.length === 0) {
    throw new TypeScriptMissingError(
      "loopwise check reads the app's code with the TypeScript compiler API, and the typescript package is not installed. " +
        "Install it as a dev dependency: npm i -D typescript@5",
    );
  }
  throw new TypeScriptMissingError(
    `loopwise check needs the TypeScript compiler API, which ${found[0]} does not have (TypeScript 7's package has no JavaScript API). ` +
      "Install TypeScript 5: npm i -D typescript@5 (or, to keep TypeScript 7 as typescript, beside it: npm i -D typescript5@npm:typescript@5)",
  );
}

function versionOf(require: NodeJS.Require, name: string): string | undefined {
  try {
    return (require(`${name}/package.json`) as { version?: string }).version ?? "(no version)";
  } catch {
    return undefined;
  }
}
