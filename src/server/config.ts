// Every server default in one place, like uvicorn's Config: `serve()`, the TestClient and the
// CLI's --help all read them from here, and the CLI passes only the flags it was given.
import type { ResourceLimits } from "node:worker_threads";
import { defaultPoolSize, defaultWorkerMemoryMb } from "../pool/pool-options.js";
import { defaultJsonDepthLimit } from "../params/json-depth.js";
import type { LogFormat, LoggerOptions } from "./logger.js";

export interface ServeOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Worker threads in the pool (default: twice the cores, 4 to 16). */
  poolSize?: number;
  logFormat?: LogFormat;
  accessLog?: boolean;
  /** Replace where log lines go (tests, embedding). */
  logWrite?: LoggerOptions["write"];
  /** Largest request body, bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Deepest nesting of arrays and objects a JSON body may have; deeper is a 400 (default 256, `defaultJsonDepthLimit`). */
  jsonDepthLimit?: number;
  /** Connections the OS holds for accept() under a burst; Node's default of 511 drops more during floods (default 2048). */
  backlog?: number;
  /** Idle keep-alive connections are closed after this many ms (default 5000). */
  keepAliveTimeout?: number;
  /** A client must send all request headers within this many ms, else 408 (default 10000; cuts slowloris). */
  headersTimeout?: number;
  /** A client must send the whole request within this many ms, else 408 (default 60000). */
  requestTimeout?: number;
  /** Default time limit for a handler, ms; routes may set their own (default: none). */
  timeout?: number;
  /** Worker-lane requests allowed to wait for a worker; more are answered 503 (default 1024). */
  maxQueue?: number;
  /**
   * Heap cap of each worker, MB (default: a thirty-second of the machine's memory, 128 MB to 1 GB).
   * A worker that exceeds it dies alone: its request gets a 500, it is replaced.
   */
  workerMemoryMb?: number;
  /** Every memory limit of each worker (overrides `workerMemoryMb`). */
  workerResourceLimits?: ResourceLimits;
  /** How long shutdown waits for in-flight requests, ms (default 30000). */
  gracePeriod?: number;
  /** Shut down gracefully on SIGINT/SIGTERM and exit (default false; `app.listen()` and the CLI turn it on). */
  handleSignals?: boolean;
  /**
   * Log an error no request owns (a stray timer's throw, an unawaited rejection) and keep serving,
   * instead of letting the process die of it; see containStrayErrors. For a server that owns its
   * process: defaults to `handleSignals`, and the CLI turns it on.
   */
  containStrayErrors?: boolean;
  /** Where the app lives, for the workers; defaults to the module that created the app. */
  moduleUrl?: string;
  exportName?: string;
  /**
   * Warn when the event loop is blocked at least `thresholdMs` (default 100), naming the route;
   * `false` turns the monitor off. On by default.
   */
  loopMonitor?: { thresholdMs?: number } | false;
  /** Serve Prometheus metrics at /metrics (default false). */
  metrics?: boolean;
  /** Development extras: the live lanes page at /_loopwise (default false; never turn it on in production). */
  dev?: boolean;
  /** OS niceness added to worker threads so they yield the cores to the loop (default 5). */
  workerNiceness?: number;
}

/** ServeOptions with every default filled in. */
export interface Config extends Required<Omit<ServeOptions, "timeout" | "logWrite" | "moduleUrl" | "exportName" | "loopMonitor" | "workerResourceLimits">> {
  timeout: number | undefined;
  logWrite: LoggerOptions["write"] | undefined;
  moduleUrl: string;
  exportName: string | undefined;
  loopMonitor: { thresholdMs: number } | false;
  workerResourceLimits: ResourceLimits;
}

/** The defaults, each with the reason it is what it is where that is not obvious. */
export const defaults = {
  host: "127.0.0.1",
  port: 8000,
  poolSize: defaultPoolSize,
  workerMemoryMb: defaultWorkerMemoryMb,
  logFormat: "text" as LogFormat,
  accessLog: true,
  bodyLimit: 1024 * 1024,
  jsonDepthLimit: defaultJsonDepthLimit,
  // Node's own 511 dropped connections in a burst of 5,000.
  backlog: 2048,
  keepAliveTimeout: 5000,
  headersTimeout: 10_000,
  requestTimeout: 60_000,
  maxQueue: 1024,
  gracePeriod: 30_000,
  blockThresholdMs: 100,
  workerNiceness: 5,
  /** TestClient: two workers are enough to show both lanes and keep tests quick to start. */
  testPoolSize: 2,
} as const;

/** Resolves every option; `moduleUrl` is where the workers import the app from. */
export function resolveConfig(options: ServeOptions, appModuleUrl: string | undefined): Config {
  const moduleUrl = options.moduleUrl ?? appModuleUrl;
  if (!moduleUrl) throw new Error("cannot tell which module defines the app; pass moduleUrl or start it with `loopwise run module:app`");
  const headersTimeout = options.headersTimeout ?? defaults.headersTimeout;
  const workerMemoryMb = options.workerMemoryMb ?? defaults.workerMemoryMb();
  return {
    host: options.host ?? defaults.host,
    port: options.port ?? defaults.port,
    poolSize: options.poolSize ?? defaults.poolSize(),
    logFormat: options.logFormat ?? defaults.logFormat,
    accessLog: options.accessLog ?? defaults.accessLog,
    logWrite: options.logWrite,
    bodyLimit: options.bodyLimit ?? defaults.bodyLimit,
    jsonDepthLimit: checkedDepthLimit(options.jsonDepthLimit),
    backlog: options.backlog ?? defaults.backlog,
    keepAliveTimeout: options.keepAliveTimeout ?? defaults.keepAliveTimeout,
    headersTimeout,
    // Node requires the whole-request limit to be at least the headers' one.
    requestTimeout: Math.max(options.requestTimeout ?? defaults.requestTimeout, headersTimeout),
    timeout: options.timeout,
    maxQueue: options.maxQueue ?? defaults.maxQueue,
    workerMemoryMb,
    workerResourceLimits: options.workerResourceLimits ?? { maxOldGenerationSizeMb: workerMemoryMb },
    gracePeriod: options.gracePeriod ?? defaults.gracePeriod,
    handleSignals: options.handleSignals ?? false,
    containStrayErrors: options.containStrayErrors ?? options.handleSignals ?? false,
    moduleUrl,
    exportName: options.exportName,
    loopMonitor: options.loopMonitor === false ? false : { thresholdMs: options.loopMonitor?.thresholdMs ?? defaults.blockThresholdMs },
    metrics: options.metrics ?? false,
    dev: options.dev ?? false,
    workerNiceness: options.workerNiceness ?? defaults.workerNiceness,
  };
}

function checkedDepthLimit(limit: number | undefined): number {
  if (limit === undefined) return defaults.jsonDepthLimit;
  if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`jsonDepthLimit must be a whole number of levels, at least 1, got ${limit}`);
  return limit;
}
