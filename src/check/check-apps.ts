// `loopwise check`: the app is loaded as the server loads it, so its route table says which
// functions run on the event loop; V8 says where each one is written; the TypeScript compiler
// API reads those functions, and the app's functions they call, for calls that block.
import { createRequire } from "node:module";
import { dirname, relative, resolve, sep } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type TS from "typescript";
import type { App } from "../app/app.js";
import { functionSources } from "../monitor/function-location.js";
import { BlockingCallFinder, type BlockingCall, type Hop } from "./blocking-calls.js";
import type { BlockingKind } from "./blocking-apis.js";
import { loopCodeOf, type LoopCodeKind, workerCodeOf } from "./loop-code.js";
import { ModuleStateFinder, perWorkerMarker } from "./module-state.js";
import type { TypeScript } from "./typescript.js";

export interface CheckedApp {
  app: App;
  /** The module URL it was loaded from. */
  moduleUrl: string;
  /** As the command line named it: "examples/seed/main.ts:app". */
  spec: string;
}

/** A place in the source, its path relative to the working folder. */
export interface Place {
  file: string;
  line: number;
  column: number;
}

/** One blocking call reached from one function that runs on the event loop. */
export interface Finding {
  app: string;
  /** The routes whose requests run the function. */
  routes: string[];
  /** The function that runs on the loop: a handler, a dependency, middleware, a WebSocket handler. */
  code: Place & { kind: LoopCodeKind; name: string };
  /** The blocking call. */
  call: Place & { kind: BlockingKind; api: string; callee: string };
  /** The app's functions called on the way, outermost first. */
  via: (Place & { callee: string })[];
  fix: string;
}

/** Module-level state written by code that runs in workers: one copy per worker, not shared. */
export interface PerWorkerState {
  app: string;
  /** The variable, where it is declared. */
  variable: Place & { name: string };
  /** The routes whose requests write it. */
  routes: string[];
  /** Where they write it (for a `":memory:"` database: use it), first few. */
  writes: Place[];
  kind: "written" | "in-memory-database";
  fix: string;
}

/** A loop-lane function the check could not read, and why. */
export interface Unchecked {
  app: string;
  routes: string[];
  kind: LoopCodeKind;
  name: string;
  reason: string;
}

export interface CheckReport {
  findings: Finding[];
  /** Blocking calls marked as deliberate by a comment. */
  exempted: Finding[];
  unchecked: Unchecked[];
  /** Warnings: they do not fail the check. */
  perWorkerState: PerWorkerState[];
  /** Routes in the apps' tables, and the functions among them that run on the loop and were read. */
  routes: number;
  loopCode: number;
  /** How long it took, ms: from when the apps were loaded (the command counts from its own start). */
  durationMs: number;
}

export function checkApps(ts: TypeScript, apps: CheckedApp[]): Promise<CheckReport> {
  return new AppChecker(ts).check(apps);
}

/** This package's root, found the way the app finds it (the package's own name). */
const packageRoot = dirname(createRequire(import.meta.url).resolve("loopwise/package.json"));
const ownCode = [resolve(packageRoot, "src") + sep, resolve(packageRoot, "dist") + sep];

function isLoopwise(fileNameOrModule: string): boolean {
  if (fileNameOrModule === "loopwise" || fileNameOrModule.startsWith("loopwise/")) return true;
  const path = resolve(fileNameOrModule);
  return ownCode.some((dir) => path.startsWith(dir)) || /[\\/]node_modules[\\/]loopwise[\\/]/.test(path);
}

function isAppFile(fileName: string): boolean {
  return !/\.d\.[cm]?ts$/.test(fileName) && !/[\\/]node_modules[\\/]/.test(fileName) && !isLoopwise(fileName);
}

class AppChecker {
  constructor(private readonly ts: TypeScript) {}

  async check(apps: CheckedApp[]): Promise<CheckReport> {
    const started = performance.now();
    const code = apps.flatMap(({ app, spec }) => loopCodeOf(app).map((entry) => ({ ...entry, app: spec })));
    const workerCode = apps.flatMap(({ app, spec }) => workerCodeOf(app).map((entry) => ({ ...entry, app: spec })));
    const allPositions = await functionSources([...code, ...workerCode].map((entry) => entry.fn));
    const allFiles = allPositions.map((position) => (position?.url.startsWith("file:") ? fileURLToPath(position.url) : undefined));
    const roots = new Set([...apps.map((a) => fileURLToPath(a.moduleUrl)), ...allFiles.filter((f): f is string => f !== undefined && isAppFile(f))]);
    const program = this.program([...roots], dirname(fileURLToPath(apps[0]!.moduleUrl)));
    const finder = new BlockingCallFinder(this.ts, program, { isAppFile, isLoopwise });
    const positions = allPositions.slice(0, code.length);
    const files = allFiles.slice(0, code.length);

    const report: CheckReport = { findings: [], exempted: [], unchecked: [], perWorkerState: [], routes: 0, loopCode: 0, durationMs: 0 };
    report.routes = apps.reduce((sum, { app }) => sum + app.routes.length + app.websocketRoutes.length, 0);
    const seen = new Map<string, Finding>();
    const read = new Set<TS.Node>();
    code.forEach((entry, i) => {
      const file = files[i];
      const position = positions[i];
      // Loopwise's own middleware and a package's functions are not the app's to fix.
      if (file !== undefined && !isAppFile(file)) return;
      const fn = file !== undefined && position !== undefined ? finder.functionAt(file, position.line, position.column) : undefined;
      if (!fn) {
        const reason =
          file === undefined || position === undefined
            ? "V8 gives no source file for it (a built-in or bound function, or no inspector)"
            : `no function found at ${place(file, position.line + 1, position.column + 1)}`;
        report.unchecked.push({ app: entry.app, routes: entry.routes, kind: entry.kind, name: entry.name, reason });
        return;
      }
      read.add(fn);
      const at = this.placeOf(fn);
      for (const call of finder.blockingCalls(fn)) {
        const finding = this.finding(entry, at, call);
        // Handlers made by one factory are one function in the source: one finding, every route.
        const key = `${finding.app} ${JSON.stringify([finding.code, finding.via, finding.call])}`;
        const known = seen.get(key);
        if (known) known.routes.push(...finding.routes.filter((route) => !known.routes.includes(route)));
        else {
          seen.set(key, finding);
          (call.exempt ? report.exempted : report.findings).push(finding);
        }
      }
    });
    report.loopCode = read.size;
    const located = workerCode.map((entry, i) => {
      const file = allFiles[code.length + i];
      const position = allPositions[code.length + i];
      const fn =
        file !== undefined && position !== undefined && isAppFile(file) ? finder.functionAt(file, position.line, position.column) : undefined;
      return { ...entry, node: fn };
    });
    report.perWorkerState = this.perWorkerState(
      located,
      new ModuleStateFinder(this.ts, program, isAppFile, (call) => finder.appFunctionCalled(call)),
    );
    const order = (a: Finding, b: Finding) => a.call.file.localeCompare(b.call.file) || a.call.line - b.call.line || a.call.column - b.call.column;
    report.findings.sort(order);
    report.exempted.sort(order);
    report.durationMs = performance.now() - started;
    return report;
  }

  /** Module-level variables that worker code writes, one warning per variable with every route that writes it. */
  private perWorkerState(
    code: { app: string; routes: string[]; node: TS.FunctionLikeDeclaration | undefined }[],
    finder: ModuleStateFinder,
  ): PerWorkerState[] {
    const byVariable = new Map<TS.Node, PerWorkerState>();
    for (const entry of code) {
      if (!entry.node) continue;
      for (const write of finder.writes(entry.node)) {
        let warning = byVariable.get(write.declaration);
        if (!warning) {
          const name = write.declaration.name.getText();
          warning = {
            app: entry.app,
            variable: { ...this.placeOf(write.declaration), name },
            routes: [],
            writes: [],
            kind: write.kind,
            fix:
              write.kind === "in-memory-database"
                ? `Each worker opens its own empty database: keep the data in a database file or server (one connection per worker, opened in onWorkerStart), or mark the line // ${perWorkerMarker} if each worker's own copy is meant.`
                : `Each worker has its own copy, so requests see different values: keep shared data in a database or in SharedCounter/SharedTable, or mark the line // ${perWorkerMarker} if each worker's own copy is meant (a cache).`,
          };
          byVariable.set(write.declaration, warning);
        }
        for (const route of entry.routes) if (!warning.routes.includes(route)) warning.routes.push(route);
        const at = this.placeOf(write.at);
        if (warning.writes.length < 3 && !warning.writes.some((w) => w.file === at.file && w.line === at.line)) warning.writes.push(at);
      }
    }
    const order = (a: PerWorkerState, b: PerWorkerState) => a.variable.file.localeCompare(b.variable.file) || a.variable.line - b.variable.line;
    return [...byVariable.values()].sort(order);
  }

  /** The program over the app's modules, with the compiler options of the app's tsconfig.json (or Node's defaults). */
  private program(roots: string[], projectDir: string): TS.Program {
    const ts = this.ts;
    let options: TS.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      allowImportingTsExtensions: true,
    };
    const config = ts.findConfigFile(projectDir, ts.sys.fileExists);
    if (config) {
      const parsed = ts.getParsedCommandLineOfConfigFile(config, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
      if (parsed) options = parsed.options;
    }
    // Read only: nothing is emitted or reported, and JavaScript apps are read as they are.
    return ts.createProgram(roots, { ...options, noEmit: true, allowJs: true, checkJs: false, skipLibCheck: true });
  }

  private placeOf(node: TS.Node): Place & { line: number } {
    const file = node.getSourceFile();
    const { line, character } = file.getLineAndCharacterOfPosition(node.getStart(file));
    return { file: shown(file.fileName), line: line + 1, column: character + 1 };
  }

  private finding(entry: ReturnType<typeof loopCodeOf>[number] & { app: string }, at: Place, call: BlockingCall): Finding {
    const hop = (h: Hop) => ({ file: shown(h.file), line: h.line, column: h.column, callee: h.callee });
    const fix =
      call.kind === "app-blocking"
        ? `Call it through the pool: await offload(${call.at.callee}, ...args). Called directly, a blocking() function runs on its caller's thread, here the event loop.`
        : entry.fix;
    return {
      app: entry.app,
      routes: [...entry.routes],
      code: { ...at, kind: entry.kind, name: entry.name },
      call: { ...hop(call.at), kind: call.kind, api: call.api },
      via: call.via.map(hop),
      fix,
    };
  }
}

/** A path as the developer would type it: relative to the working folder when under it. */
function shown(fileName: string): string {
  const path = relative(process.cwd(), fileName);
  return path.startsWith("..") ? fileName : path;
}

function place(file: string, line: number, column: number): string {
  return `${shown(file)}:${line}:${column}`;
}
