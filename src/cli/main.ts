#!/usr/bin/env node
// The `loopwise` command. It only turns flags into options; the work happens in serve() and demo().
import { parseArgs } from "node:util";
import { markCliOwnsServer } from "../app/app.js";
import { defaultPoolSize } from "../lanes/pool.js";
import { followParent, isClusterChild, isSupervised, runClusterParent } from "../server/cluster.js";
import { Logger } from "../server/logger.js";
import { serve } from "../server/serve.js";
import { runWithReload } from "./reload.js";
import { runDemo } from "./demo.js";
import { AppImportError, importApp } from "./import-app.js";

const usage = `Usage:
  loopwise run MODULE[:EXPORT] [--host 127.0.0.1] [--port 8000] [--pool-size N]
                               [--log-format text|json] [--no-access-log]
                               [--timeout MS] [--max-queue N] [--grace-period MS]
                               [--block-threshold MS] [--no-loop-monitor]
                               [--metrics] [--dev] [--workers N | --reload]
  loopwise routes MODULE[:EXPORT]
  loopwise demo [--sleep 2000] [--out timeline.svg|timeline.html]

MODULE is a .ts or .js file; EXPORT defaults to "app".
  run     serve the app: async handlers on the event loop, plain ones on the worker pool
  routes  list every route and the lane it runs on
  demo    replay the FastAPI def vs async def experiment and draw its timeline`;

class UsageError extends Error {}

function integer(value: string | undefined, flag: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) throw new UsageError(`${flag} must be an integer ≥ ${min}, got "${value}"`);
  return parsed;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(usage);
    return command === undefined ? 2 : 0;
  }
  switch (command) {
    case "run": {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          host: { type: "string", default: "127.0.0.1" },
          port: { type: "string", default: "8000" },
          "pool-size": { type: "string" },
          "log-format": { type: "string", default: "text" },
          "no-access-log": { type: "boolean", default: false },
          timeout: { type: "string" },
          "max-queue": { type: "string" },
          "grace-period": { type: "string" },
          "block-threshold": { type: "string" },
          "no-loop-monitor": { type: "boolean", default: false },
          metrics: { type: "boolean", default: false },
          dev: { type: "boolean", default: false },
          workers: { type: "string" },
          reload: { type: "boolean", default: false },
        },
      });
      if (positionals.length !== 1) throw new UsageError("run takes one MODULE[:EXPORT]");
      const logFormat = values["log-format"];
      if (logFormat !== "text" && logFormat !== "json") throw new UsageError(`--log-format must be text or json, got "${logFormat}"`);
      const workers = integer(values.workers, "--workers", 1, 1);
      if (values.reload && workers > 1) throw new UsageError("--reload and --workers cannot be used together");
      if (values.reload) return runWithReload(rest.filter((arg) => arg !== "--reload"), positionals[0]!, new Logger({ format: logFormat }));
      if (workers > 1 && !isClusterChild()) return runClusterParent(workers, new Logger({ format: logFormat }));
      markCliOwnsServer();
      const { app, moduleUrl, exportName } = await importApp(positionals[0]!);
      const server = await serve(app, {
        host: values.host,
        port: integer(values.port, "--port", 8000, 0),
        poolSize: integer(values["pool-size"], "--pool-size", defaultPoolSize(), 1),
        logFormat,
        accessLog: !values["no-access-log"],
        timeout: values.timeout === undefined ? undefined : integer(values.timeout, "--timeout", 0, 1),
        maxQueue: integer(values["max-queue"], "--max-queue", 1024, 0),
        gracePeriod: integer(values["grace-period"], "--grace-period", 30_000, 0),
        loopMonitor: values["no-loop-monitor"] ? false : { thresholdMs: integer(values["block-threshold"], "--block-threshold", 100, 1) },
        metrics: values.metrics,
        dev: values.dev,
        moduleUrl,
        exportName,
        handleSignals: !isSupervised(),
        containStrayErrors: true,
      });
      if (isSupervised()) followParent(server);
      return -1; // keep running until a signal
    }
    case "routes": {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
      if (positionals.length !== 1) throw new UsageError("routes takes one MODULE[:EXPORT]");
      markCliOwnsServer();
      const { app } = await importApp(positionals[0]!);
      const width = Math.max(...app.routes.map((r) => r.method.length + r.path.length + 1), 10);
      for (const route of app.routes) {
        console.log(`${`${route.method} ${route.path}`.padEnd(width)}  ${route.lane.padEnd(6)}  ${route.name}`.trimEnd());
      }
      return 0;
    }
    case "demo": {
      const { values } = parseArgs({
        args: rest,
        options: { sleep: { type: "string", default: "2000" }, out: { type: "string" } },
      });
      if (values.out !== undefined && !/\.(svg|html)$/i.test(values.out)) throw new UsageError(`--out must name an .svg or .html file, got "${values.out}"`);
      const ok = await runDemo({ sleepMs: integer(values.sleep, "--sleep", 2000, 200), out: values.out });
      return ok ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2))
  .then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
        console.error(`Error: ${(error as Error).message}\n\n${usage}`);
        process.exitCode = 2;
      } else if (error instanceof AppImportError) {
        console.error(`Error: ${error.message}`);
        process.exitCode = 1;
      } else {
        console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
        process.exitCode = 1;
      }
    },
  )
  .then(() => {
    // A supervised child's IPC channel would keep it alive after a failed start.
    if (process.exitCode !== undefined && isSupervised()) process.exit();
  });
