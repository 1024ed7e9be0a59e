// `loopwise init`: a project in the current folder that serves and passes its test at once: an
// ES-module package.json with the scripts, a tsconfig.json that type-checks the docs' code, an
// app, a test of it, and a .gitignore. Files already there are kept; package.json is completed.
// The files are copies of examples/project/, which the package ships and its tests run.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's files as the package holds them (this module is two folders below its root, in src/ or dist/). */
const templates = fileURLToPath(new URL("../../examples/project/", import.meta.url));
/** Copied as they are; the .gitignore is written here, since npm leaves .gitignore files out of a package. */
export const templateFiles = ["tsconfig.json", "main.ts", "test/main.test.ts"];

/** A folder init cannot complete (a package.json that is not JSON): said without a stack. */
export class InitError extends Error {
  override readonly name = "InitError";
}

/** What init needs of Loopwise's own package.json: its version, and the versions it is tested with. */
export interface OwnPackage {
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const gitignore = `node_modules/
*.db
`;

/** The scripts of the project's package.json. */
export const projectScripts: Readonly<Record<string, string>> = {
  start: "loopwise run main.ts:app",
  dev: "loopwise run main.ts:app --reload",
  test: "node --import tsx --test test/*.test.ts",
  typecheck: "tsc",
};

/** npm's placeholder test script (`npm init -y`), replaced by a real one. */
const placeholderTest = /no test specified/;

/** Writes the project into `folder`; returns the lines to print. */
export function initProject(folder: string, own: OwnPackage): string[] {
  const created: string[] = [];
  const kept: string[] = [];
  const write = (name: string, text: string) => {
    const path = join(folder, name);
    if (existsSync(path)) return kept.push(name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    created.push(name);
  };
  const notes = writePackage(folder, own, created);
  for (const name of templateFiles) write(name, readFileSync(join(templates, name), "utf8"));
  write(".gitignore", gitignore);
  return [
    ...(created.length > 0 ? [`Created ${created.join(", ")}.`] : []),
    ...(kept.length > 0 ? [`Kept ${kept.join(", ")} as they were.`] : []),
    ...notes,
    "",
    "Next:",
    "  npm install",
    "  npm start        # serves main.ts on http://127.0.0.1:8000 (docs at /docs)",
    "  npm test         # runs test/main.test.ts",
    "  npm run dev      # serves it again on every change",
  ];
}

/** Creates package.json, or completes one that exists (a type, scripts and dependencies it lacks); returns notes. */
function writePackage(folder: string, own: OwnPackage, created: string[]): string[] {
  const path = join(folder, "package.json");
  const exists = existsSync(path);
  let pkg: Record<string, any>;
  try {
    pkg = exists ? JSON.parse(readFileSync(path, "utf8")) : { name: packageName(folder), version: "0.1.0", private: true };
  } catch (error) {
    throw new InitError(`package.json is not valid JSON (${(error as Error).message}); fix it or remove it, then run loopwise init again`);
  }
  if (pkg === null || typeof pkg !== "object" || Array.isArray(pkg))
    throw new InitError("package.json does not hold an object; fix it or remove it first");
  const notes: string[] = [];
  if (pkg.type !== "module") {
    if (exists) notes.push(`Set "type": "module" in package.json${pkg.type ? ` (it was "${pkg.type}")` : ""}: Loopwise apps are ES modules.`);
    pkg.type = "module";
  }
  const scripts: Record<string, string> = (pkg.scripts ??= {});
  for (const [name, command] of Object.entries(projectScripts)) {
    if (scripts[name] === undefined || (name === "test" && placeholderTest.test(scripts[name]))) scripts[name] = command;
    else if (scripts[name] !== command) notes.push(`Kept the script "${name}" of package.json: ${scripts[name]}`);
  }
  const has = (name: string) => pkg.dependencies?.[name] !== undefined || pkg.devDependencies?.[name] !== undefined;
  const add = (field: "dependencies" | "devDependencies", name: string, version: string | undefined) => {
    if (!has(name) && version) (pkg[field] ??= {})[name] = version;
  };
  add("dependencies", "loopwise", `^${own.version}`);
  add("dependencies", "zod", own.devDependencies?.zod);
  add("devDependencies", "@types/node", own.devDependencies?.["@types/node"]);
  add("devDependencies", "tsx", own.dependencies?.tsx);
  add("devDependencies", "typescript", own.devDependencies?.typescript);
  writeFileSync(path, `${JSON.stringify(pkg, null, 2)}\n`);
  if (!exists) created.push("package.json");
  else notes.unshift("Completed package.json.");
  return notes;
}

/** A valid npm name from the folder's: lower case, letters, digits, `-`, `.` and `_`. */
function packageName(folder: string): string {
  const name = basename(folder)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+|-+$/g, "");
  return name || "app";
}
