#!/usr/bin/env node
// The `loopwise` command. It only turns the flags it was given into options (cli/flags.ts);
// every default lives in server/config.ts, and the work happens in serve() and runDemo().
import { readFileSync } from "node:fs";
import { markCliOwnsServer } from "../server/listen.js";
import { followParent, isClusterChild, isSupervised, recycleMessage, runClusterParent } from "../server/cluster.js";
import { Logger } from "../server/logger.js";
import { levelNumber, type LogLevel } from "../log/levels.js";
import { serve } from "../server/serve.js";
import { runWithReload } from "./reload.js";
import { runDemo } from "./demo.js";
import { InitError, initProject, type OwnPackage } from "./init.js";
import { checkFlags, closest, demoFlags, envFileFlag, helpText, parseFlags, runFlags, UsageError, workerFlags, type Parsed } from "./flags.js";
import { check } from "./check.js";
import { AppImportError, importApp } from "./import-app.js";
import { readEnvFile } from "../params/settings.js";
import { TypeScriptMissingError } from "../check/typescript.js";
import { serveOptions, workerOptions } from "./serve-options.js";
import { runWorker } from "../server/worker-process.js";
import { MissingQueuePackagesError } from "../queue/queue-packages.js";
import { parseRedisUrl } from "../queue/redis-url.js";
import { NonError, thrownError, thrownMessage } from "../server/thrown-error.js";

const usage = `Usage: loopwise COMMAND [OPTIONS]

Commands:
  init                    start a project in the current folder: package.json, tsconfig.json, main.ts, a test
  run MODULE[:EXPORT]     serve the app: async handlers on the event loop, plain ones on the worker pool
  worker MODULE[:EXPORT]  run the app's queue-lane routes and durable jobs, taken from Redis (--redis URL)
  routes MODULE[:EXPORT]  list every route and the lane it runs on
  check MODULE[:EXPORT]   find blocking calls in the code that runs on the event loop (exit status 1 if any)
  demo                    replay the FastAPI def vs async def experiment and draw its timeline

MODULE is a .ts or .js file; EXPORT defaults to "app".
Run "loopwise COMMAND --help" for a command's options; "loopwise --version" for the version.`;

const commands = {
  init: {
    usage: "loopwise init",
    summary:
      "Start a project in the current folder: package.json (type module, scripts), tsconfig.json, main.ts, test/main.test.ts and .gitignore. Files already there are kept.",
    flags: [],
  },
  run: {
    usage: "loopwise run MODULE[:EXPORT] [OPTIONS]",
    summary: "Serve the app: async handlers on the event loop, plain ones on the worker pool.",
    flags: runFlags,
  },
  worker: {
    usage: "loopwise worker MODULE[:EXPORT] --redis URL [OPTIONS]",
    summary: "Run the app's queue-lane routes and durable jobs, taken from Redis: plain handlers on this process's pool, async ones on its loop.",
    flags: workerFlags,
  },
  routes: { usage: "loopwise routes MODULE[:EXPORT] [--env-file FILE]", summary: "List every route and the lane it runs on.", flags: [envFileFlag] },
  check: {
    usage: "loopwise check MODULE[:EXPORT]... [--json] [--env-file FILE]",
    summary:
      "Find blocking calls (fs/crypto/zlib/child_process *Sync, Atomics.wait, sleepSync, better-sqlite3, bcrypt, the app's blocking() functions) " +
      "in the handlers, dependencies and middleware that run on the event loop, and the app's functions they call. Exit status 1 if any.",
    flags: checkFlags,
  },
  demo: {
    usage: "loopwise demo [OPTIONS]",
    summary: "Replay the FastAPI def vs async def experiment and draw its timeline.",
    flags: demoFlags,
  },
} as const;

function ownPackage(): OwnPackage {
  return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as OwnPackage;
}

function version(): string {
  return `loopwise ${ownPackage().version} (Node.js ${process.version})`;
}

async function run(args: string[], parsed: Parsed): Promise<number> {
  const { given, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError("run takes one MODULE[:EXPORT]");
  // A file that cannot be read is said once, here, rather than by every restart of a child.
  envFileVariables(given["env-file"]);
  const logger = () =>
    new Logger({
      format: (given["log-format"] as "text" | "json" | undefined) ?? "text",
      level: levelNumber(given["log-level"] as LogLevel | undefined),
    });
  const workers = (given.workers as number | undefined) ?? 1;
  if (given.reload && workers > 1) throw new UsageError("--reload and --workers cannot be used together");
  if (given.reload)
    return runWithReload(
      args.filter((arg) => arg !== "--reload"),
      positionals[0]!,
      logger(),
    );
  if (workers > 1 && !isClusterChild()) return runClusterParent(workers, logger(), given.uds as string | undefined);
  // Here, in the process that imports the app: a --reload child reads the file anew at each restart.
  loadEnvFile(given["env-file"]);
  markCliOwnsServer();
  const { app, moduleUrl, exportName } = await importApp(positionals[0]!);
  // A stray timer in a supervised child would otherwise take every request in flight there with it.
  // Past --limit-max-requests a --workers child asks its parent for a replacement; a lone server drains and exits.
  const onRequestLimit = isClusterChild()
    ? () => process.send?.(recycleMessage)
    : () => void server.close("limit-max-requests").then((finished) => process.exit(finished ? 0 : 1));
  const server = await serve(app, {
    ...serveOptions(given),
    moduleUrl,
    exportName,
    handleSignals: !isSupervised(),
    containStrayErrors: true,
    onRequestLimit,
  });
  if (isSupervised()) followParent(server);
  return -1; // keep running until a signal
}

async function worker(parsed: Parsed): Promise<number> {
  const { given, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError("worker takes one MODULE[:EXPORT]");
  if (given.redis === undefined) throw new UsageError("worker needs --redis URL: the Redis the servers send their jobs to");
  loadEnvFile(given["env-file"]);
  markCliOwnsServer();
  const { app, moduleUrl, exportName } = await importApp(positionals[0]!);
  await runWorker(app, { ...workerOptions(given), moduleUrl, exportName, handleSignals: true, containStrayErrors: true });
  return -1; // keep running until a signal
}

async function routes(positionals: string[]): Promise<number> {
  if (positionals.length !== 1) throw new UsageError("routes takes one MODULE[:EXPORT]");
  markCliOwnsServer();
  const { app } = await importApp(positionals[0]!);
  const lines = [
    ...app.routes.map((r) => [`${r.method} ${r.path}`, r.lane, r.name]),
    // A WebSocket handler always runs on the loop.
    ...app.websocketRoutes.map((r) => [`WEBSOCKET ${r.path}`, "loop", r.name]),
  ];
  const width = Math.max(...lines.map(([label]) => label!.length), 10);
  for (const [label, lane, name] of lines) console.log(`${label!.padEnd(width)}  ${lane!.padEnd(6)}  ${name}`.trimEnd());
  return 0;
}

/**
 * `--env-file FILE`, as uvicorn's: its variables join the environment (never over one already
 * set) before the app is imported, so `settings()` and the workers' copies see them.
 */
function loadEnvFile(file: Parsed["given"][string] | undefined): void {
  for (const [name, value] of Object.entries(envFileVariables(file))) process.env[name] ??= value;
}

function envFileVariables(file: Parsed["given"][string] | undefined): Record<string, string> {
  if (typeof file !== "string") return {};
  try {
    return readEnvFile(file);
  } catch (error) {
    throw new UsageError(`--env-file: ${(error as Error).message}`);
  }
}

/** A wrong --redis is a usage error, said before anything starts. */
function checkRedisFlag(url: Parsed["given"][string] | undefined): void {
  if (typeof url !== "string") return;
  try {
    parseRedisUrl(url);
  } catch (error) {
    throw new UsageError(`--redis: ${(error as Error).message}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "--version" || command === "-V") {
    console.log(version());
    return 0;
  }
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(usage);
    return command === undefined ? 2 : 0;
  }
  if (!(command in commands)) {
    const near = closest(command, Object.keys(commands));
    throw new UsageError(`unknown command "${command}"${near ? `; did you mean "${near}"?` : ""}`);
  }
  const spec = commands[command as keyof typeof commands];
  try {
    return await runCommand(command as keyof typeof commands, rest);
  } catch (error) {
    // A mistake in a command's flags or arguments is answered with that command's usage, not the top level's.
    if (error instanceof UsageError) error.help ??= helpText(spec.usage, spec.summary, [...spec.flags]);
    throw error;
  }
}

async function runCommand(command: keyof typeof commands, rest: string[]): Promise<number> {
  const spec = commands[command];
  const parsed = parseFlags(rest, [...spec.flags]);
  checkRedisFlag(parsed.given.redis);
  if (parsed.help) {
    console.log(helpText(spec.usage, spec.summary, [...spec.flags]));
    return 0;
  }
  switch (command) {
    case "init":
      if (parsed.positionals.length > 0) throw new UsageError("init takes no arguments: it starts a project in the current folder");
      console.log(initProject(process.cwd(), ownPackage()).join("\n"));
      return 0;
    case "run":
      return run(rest, parsed);
    case "worker":
      return worker(parsed);
    case "routes":
      loadEnvFile(parsed.given["env-file"]);
      return routes(parsed.positionals);
    case "check":
      loadEnvFile(parsed.given["env-file"]);
      return check(parsed.positionals, parsed.given.json === true);
    default: {
      const out = parsed.given.out as string | undefined;
      if (out !== undefined && !/\.(svg|html)$/i.test(out)) throw new UsageError(`--out must name an .svg or .html file, got "${out}"`);
      const ok = await runDemo({ sleepMs: (parsed.given.sleep as number | undefined) ?? 2000, out });
      return ok ? 0 : 1;
    }
  }
}

main(process.argv.slice(2))
  .then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(`Error: ${error.message}\n\n${error.help ?? usage}`);
        process.exitCode = 2;
      } else if (error instanceof AppImportError || error instanceof InitError || error instanceof TypeScriptMissingError) {
        console.error(`Error: ${error.message}`);
        process.exitCode = 1;
      } else if (error instanceof MissingQueuePackagesError) {
        // The startup log said it, with the command to run: a stack trace would bury it.
        process.exitCode = 1;
      } else {
        console.error(lastWords(error));
        process.exitCode = 1;
      }
    },
  )
  .then(() => {
    // A supervised child's IPC channel would keep it alive after a failed start.
    if (process.exitCode !== undefined && isSupervised()) process.exit();
  });

/** What the command prints about an error nothing else reported: its stack, or a description of a value that is not an Error. */
function lastWords(error: unknown): string {
  const thrown = thrownError(error, "the command");
  if (thrown instanceof NonError) return thrown.message;
  try {
    const { stack } = thrown;
    if (typeof stack === "string") return stack;
  } catch {
    // Its message, below.
  }
  return thrownMessage(thrown, "the command");
}
