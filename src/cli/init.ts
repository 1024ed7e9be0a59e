// `loopwise init`: a project in the current folder that serves and passes its test at once: an
// ES-module package.json with the scripts, a tsconfig.json that type-checks the docs' code, an
// app, a test of it, and a .gitignore. Files already there are kept; package.json is completed.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

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

export const mainTemplate = `// The app: \`npm start\` serves it (loopwise run main.ts:app), \`npm test\` tests it.
import { pbkdf2Sync } from "node:crypto";
import { z } from "zod";
import { App } from "loopwise";

export const app = new App();

// async: runs on the event loop, like FastAPI's \`async def\`.
app.get("/", async () => ({ message: "Hello World" }));

// Plain: runs on a worker thread, like FastAPI's \`def\`. Its blocking hash holds one worker, never the server.
app.get("/hash/:word", (req) => ({
  hash: pbkdf2Sync(req.params.word, "salt", 100_000, 32, "sha256").toString("hex"),
}));

// A validated body: anything else is a 422 naming the field.
const NewItem = z.object({ name: z.string().min(1), price: z.number().positive() });
app.post("/items", { body: NewItem, status: 201 }, async (req) => ({ id: 1, ...req.body }));
`;

export const testTemplate = `// The app in process, with its worker pool: no port. \`npm test\` runs it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { TestClient } from "loopwise";
import { app } from "../main.ts";

let client: TestClient;
before(async () => {
  client = await TestClient.start(app);
});
after(() => client.close());

test("the root says hello, on the event loop", async () => {
  const res = await client.get("/");
  assert.equal(res.status, 200);
  assert.deepEqual(res.json(), { message: "Hello World" });
  assert.equal(res.lane, "loop");
});

test("hashing runs on a worker thread", async () => {
  const res = await client.get("/hash/hello");
  assert.equal(res.json().hash.length, 64);
  assert.match(res.lane, /^worker#\\d+$/);
});

test("an invalid body is a 422 that names the field", async () => {
  assert.equal((await client.post("/items", { json: { name: "pen", price: 2 } })).status, 201);
  const res = await client.post("/items", { json: { name: "pen", price: -1 } });
  assert.equal(res.status, 422);
  assert.deepEqual(res.json().detail[0].loc, ["body", "price"]);
});
`;

// ES2017 or later keeps async functions native (the lane rule sees them); .ts imports need noEmit
// (Loopwise runs the .ts files itself); verbatimModuleSyntax keeps imports as Node's type stripping reads them.
export const tsconfigTemplate = `{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "lib": ["ES2023"],
    "types": ["node"],
    "strict": true,
    "noEmit": true,
    "allowImportingTsExtensions": true,
    "verbatimModuleSyntax": true,
    "skipLibCheck": true
  }
}
`;

export const gitignoreTemplate = `node_modules/
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
  write("tsconfig.json", tsconfigTemplate);
  write("main.ts", mainTemplate);
  write("test/main.test.ts", testTemplate);
  write(".gitignore", gitignoreTemplate);
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
