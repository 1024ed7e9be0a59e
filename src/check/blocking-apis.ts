// The calls `loopwise check` knows to block the thread that makes them: Node's synchronous
// APIs, Atomics.wait, sleepSync, and the synchronous drivers people put in handlers. A call is
// known by the declaration it resolves to (through any alias or wrapper the types follow), or,
// when the types are missing, by the module it was imported from.
import type TS from "typescript";
import type { TypeScript } from "./typescript.js";

export type BlockingKind = "node-sync" | "atomics-wait" | "sleep-sync" | "sqlite" | "bcrypt" | "app-blocking";

export interface KnownBlocking {
  kind: BlockingKind;
  /** What it is, as a reader knows it: "fs.readFileSync", "Statement.get (better-sqlite3)". */
  api: string;
}

/** Node's modules whose `*Sync` functions do their I/O or CPU work on the calling thread. */
const nodeModules = new Set(["fs", "crypto", "zlib", "child_process"]);
const sqliteMethods: Record<string, Set<string>> = {
  Statement: new Set(["run", "get", "all", "iterate"]),
  Database: new Set(["exec", "pragma", "serialize", "loadExtension"]),
  // Running a transaction function runs its statements.
  Transaction: new Set(["default", "deferred", "immediate", "exclusive"]),
};
const bcryptFunctions = new Set(["hashSync", "compareSync", "genSaltSync"]);
const bcryptPackages = new Set(["bcrypt", "bcryptjs"]);

/** The package a declaration file belongs to: `@types/x` counts as `x`. */
function packageOf(fileName: string): string | undefined {
  const match = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/](?!.*[\\/]node_modules[\\/])/.exec(fileName);
  if (!match) return undefined;
  const name = match[1]!.replace(/\\/g, "/");
  return name.startsWith("@types/") ? name.slice("@types/".length).replace(/^(.+)__(.+)$/, "@$1/$2") : name;
}

const bareModule = (name: string) => name.replace(/^node:/, "");

/**
 * What a resolved declaration is, if it is a known blocking call. `isLoopwise` tells this
 * package's own files apart (its `sleepSync`), wherever the app resolved it from.
 */
export function knownBlockingDeclaration(
  ts: TypeScript,
  declaration: TS.Declaration,
  isLoopwise: (fileName: string) => boolean,
): KnownBlocking | undefined {
  const file = declaration.getSourceFile();
  const name = declarationName(ts, declaration);
  const container = containerName(ts, declaration);
  if (isLoopwise(file.fileName)) {
    if (name === "sleepSync") return { kind: "sleep-sync", api: "sleepSync" };
    // An upload's bytesSync() and saveSync() read or copy its file on the calling thread.
    if (container === "UploadFile" && name?.endsWith("Sync")) return { kind: "node-sync", api: `UploadFile.${name}` };
    return undefined;
  }
  if (container === "Atomics" && name === "wait" && file.hasNoDefaultLib) return { kind: "atomics-wait", api: "Atomics.wait" };
  const pkg = packageOf(file.fileName);
  if (pkg === "node") {
    const module = enclosingModule(ts, declaration);
    if (module && nodeModules.has(bareModule(module)) && name?.endsWith("Sync")) return { kind: "node-sync", api: `${bareModule(module)}.${name}` };
  }
  if (pkg === "better-sqlite3" && container !== undefined) {
    // A transaction is a function: calling it is a call signature of its interface.
    const called = ts.isCallSignatureDeclaration(declaration) ? "default" : name;
    if (called && sqliteMethods[container]?.has(called)) {
      return { kind: "sqlite", api: `${container}${ts.isCallSignatureDeclaration(declaration) ? "" : `.${name}`} (better-sqlite3)` };
    }
  }
  if (pkg !== undefined && bcryptPackages.has(pkg) && name && bcryptFunctions.has(name)) return { kind: "bcrypt", api: `${pkg}.${name}` };
  return undefined;
}

/** The same by import, for a module the types do not reach (`export` is the name it exports). */
export function knownBlockingImport(module: string, exported: string, isLoopwise: (module: string) => boolean): KnownBlocking | undefined {
  const bare = bareModule(module);
  if (nodeModules.has(bare) && module !== bare + "/promises" && exported.endsWith("Sync")) return { kind: "node-sync", api: `${bare}.${exported}` };
  if (bcryptPackages.has(module) && bcryptFunctions.has(exported)) return { kind: "bcrypt", api: `${module}.${exported}` };
  if (isLoopwise(module) && exported === "sleepSync") return { kind: "sleep-sync", api: "sleepSync" };
  return undefined;
}

function declarationName(ts: TypeScript, declaration: TS.Declaration): string | undefined {
  const name = ts.getNameOfDeclaration(declaration);
  return name && (ts.isIdentifier(name) || ts.isStringLiteral(name)) ? name.text : undefined;
}

/** The interface, class or namespace a member is declared in. */
function containerName(ts: TypeScript, declaration: TS.Declaration): string | undefined {
  const parent = declaration.parent;
  if (parent && (ts.isInterfaceDeclaration(parent) || ts.isClassDeclaration(parent)) && parent.name) return parent.name.text;
  return undefined;
}

/** The `declare module "x"` a declaration sits in, as @types/node declares each module. */
function enclosingModule(ts: TypeScript, node: TS.Node): string | undefined {
  for (let at: TS.Node | undefined = node.parent; at; at = at.parent) {
    if (ts.isModuleDeclaration(at) && ts.isStringLiteral(at.name)) return at.name.text;
  }
  return undefined;
}
