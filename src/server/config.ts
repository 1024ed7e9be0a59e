// Every server default in one place, like uvicorn's Config: `serve()`, the TestClient and the
// CLI's --help all read them from here, and the CLI passes only the flags it was given.
import { validateHeaderName, validateHeaderValue } from "node:http";
import type { ResourceLimits } from "node:worker_threads";
import { defaultIdleTimeoutMs, defaultMaxPoolSize, defaultMaxQueueWaitMs, defaultPoolSize, defaultWorkerMemoryMb } from "../pool/pool-options.js";
import { defaultJsonDepthLimit } from "../params/json-depth.js";
import { parseRedisUrl } from "../queue/redis-url.js";
import { levelNumber, type LogLevel } from "../log/levels.js";
import type { LogFormat, LoggerOptions } from "./logger.js";
import { TrustedProxies } from "./proxy-headers.js";

export interface ServeOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Worker threads always in the pool, its core (default: twice the cores, 4 to 16). */
  poolSize?: number;
  /**
   * Most worker threads the pool grows to while worker-lane work waits and the busy workers are
   * blocked (sleeping, on a sync driver), never for CPU-bound work past the cores (default: 4 per core, at least 40, at most 256, or `poolSize` if larger).
   */
  maxPoolSize?: number;
  /** A worker above the core that has been idle this long is retired, ms (default 10000). */
  workerIdleTimeout?: number;
  logFormat?: LogFormat;
  /**
   * The least severe lines written: "critical", "error", "warning", "info" (default), "debug" or
   * "trace", as uvicorn's --log-level. Access lines are info; the application's `log` follows it too.
   */
  logLevel?: LogLevel;
  accessLog?: boolean;
  /** Replace where log lines go (tests, embedding). */
  logWrite?: LoggerOptions["write"];
  /** Largest request body, bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Deepest nesting of arrays and objects a JSON body may have; deeper is a 400 (default 256, `defaultJsonDepthLimit`). */
  jsonDepthLimit?: number;
  /** Connections the OS holds for accept() under a burst; Node's default of 511 drops more during floods (default 2048). */
  backlog?: number;
  /**
   * Requests in flight on both lanes (WebSocket sessions and event streams included) past which a
   * new request is answered 503 + Retry-After at once, as uvicorn's --limit-concurrency (default: none).
   */
  limitConcurrency?: number;
  /**
   * With the CLI's --workers: a server process drains and is replaced after about this many requests
   * (each picks its own number up to 10% above, so they do not restart together; default: none).
   */
  limitMaxRequests?: number;
  /**
   * Called once `limitMaxRequests` is reached, instead of closing the server (the CLI's --workers
   * child asks its parent for a replacement first).
   */
  onRequestLimit?: () => void;
  /** Headers added to every response, as "name: value" or [name, value] (uvicorn's --header; default: none). */
  headers?: (string | [string, string])[];
  /**
   * Liveness at /livez and readiness at /readyz (default false). Readiness is 503 while the server
   * drains, while its pool has no worker running, or while Redis is unreachable for an app with
   * queue-lane routes; give paths to serve them elsewhere.
   */
  probes?: boolean | { live?: string; ready?: string };
  /** Idle keep-alive connections are closed after this many ms (default 5000). */
  keepAliveTimeout?: number;
  /** A client must send all request headers within this many ms, else 408 (default 10000; cuts slowloris). */
  headersTimeout?: number;
  /** A client must send the whole request within this many ms, else 408 (default 60000). */
  requestTimeout?: number;
  /** Default time limit for a handler, ms; routes may set their own (default: none). */
  timeout?: number;
  /** Worker-lane requests allowed to wait for a worker (and queue-lane ones for a worker process), a memory cap; more are answered 503 (default 1024). */
  maxQueue?: number;
  /**
   * Longest a worker-lane request may wait for a worker, ms (default 5000). One expected to wait
   * longer is answered 503 + Retry-After at once; one that waited longer by its turn is answered
   * 503 then, and never runs. Under a sustained flood the limit drops to a tenth (at most 1 s).
   */
  maxQueueWait?: number;
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
  /**
   * Take the client's address and scheme from X-Forwarded-For and X-Forwarded-Proto when the
   * connection comes from a proxy in `forwardedAllowIps` (default false; giving `forwardedAllowIps` turns it on).
   */
  proxyHeaders?: boolean;
  /** The proxies `proxyHeaders` believes: addresses, CIDR ranges (10.0.0.0/8), or "*" for any (default "127.0.0.1,::1"). */
  forwardedAllowIps?: string | string[];
  /**
   * The path prefix a proxy serves the app under and strips before passing requests on (default ""):
   * /docs then loads `${rootPath}/openapi.json`, whose `servers` names it, and handlers see it as `req.rootPath`.
   */
  rootPath?: string;
  /** Serve HTTPS: the PEM private key file (with `sslCertfile`). */
  sslKeyfile?: string;
  /** Serve HTTPS: the PEM certificate file, the chain after it (with `sslKeyfile`). */
  sslCertfile?: string;
  /** The passphrase of an encrypted `sslKeyfile`. */
  sslKeyfilePassword?: string;
  /** Listen on this Unix socket path instead of `host` and `port`; a stale socket file left by a crash is replaced. */
  uds?: string;
  /**
   * Ping each open WebSocket this often, ms; a peer that has not answered by the next ping is
   * dropped (close code 1006), so a vanished client is gone within two intervals (default 20000; 0: never).
   */
  websocketPingInterval?: number;
  /** Largest WebSocket message for routes that set no `maxMessageSize`, bytes; larger closes with 1009 (default 1 MiB). */
  websocketMaxMessageSize?: number;
  /**
   * The Redis of the queue lane and durable jobs, `redis://[user:password@]host[:port][/db]` (or
   * `rediss://`): queue-lane routes are sent there for `loopwise worker` processes to run (default: none;
   * an app with queue-lane routes refuses to start without it).
   */
  redis?: string;
}

/** ServeOptions with every default filled in. */
export interface Config
  extends Required<
    Omit<
      ServeOptions,
      | "timeout"
      | "logWrite"
      | "moduleUrl"
      | "exportName"
      | "loopMonitor"
      | "workerResourceLimits"
      | "forwardedAllowIps"
      | "sslKeyfile"
      | "sslCertfile"
      | "sslKeyfilePassword"
      | "uds"
      | "redis"
      | "limitConcurrency"
      | "limitMaxRequests"
      | "headers"
      | "probes"
      | "onRequestLimit"
    >
  > {
  limitConcurrency: number | undefined;
  limitMaxRequests: number | undefined;
  /** Lower-cased names, each with its value. */
  headers: [string, string][];
  probes: { live: string; ready: string } | undefined;
  timeout: number | undefined;
  redis: string | undefined;
  logWrite: LoggerOptions["write"] | undefined;
  moduleUrl: string;
  exportName: string | undefined;
  loopMonitor: { thresholdMs: number } | false;
  workerResourceLimits: ResourceLimits;
  forwardedAllowIps: string[];
  sslKeyfile: string | undefined;
  sslCertfile: string | undefined;
  sslKeyfilePassword: string | undefined;
  uds: string | undefined;
}

/** The defaults, each with the reason it is what it is where that is not obvious. */
export const defaults = {
  host: "127.0.0.1",
  port: 8000,
  poolSize: defaultPoolSize,
  maxPoolSize: defaultMaxPoolSize,
  // anyio prunes idle threads after 10 s: long enough that a burst every few seconds keeps its workers.
  workerIdleTimeout: defaultIdleTimeoutMs,
  // Under any flood, every answer within about 10 s: up to 5 s waiting, the rest for running.
  maxQueueWait: defaultMaxQueueWaitMs,
  workerMemoryMb: defaultWorkerMemoryMb,
  logFormat: "text" as LogFormat,
  logLevel: "info" as LogLevel,
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
  // uvicorn trusts 127.0.0.1; ::1 is the same machine, reached when "localhost" resolves to IPv6.
  forwardedAllowIps: "127.0.0.1,::1",
  // uvicorn's ws_ping_interval; its ws_ping_timeout is the same span here: the next ping.
  websocketPingInterval: 20_000,
  // Like the body limit: a message is held whole in memory before the handler sees it.
  websocketMaxMessageSize: 1024 * 1024,
  /** TestClient: two workers are enough to show both lanes and keep tests quick to start. */
  testPoolSize: 2,
} as const;

/** Resolves every option; `moduleUrl` is where the workers import the app from. */
export function resolveConfig(options: ServeOptions, appModuleUrl: string | undefined): Config {
  const moduleUrl = options.moduleUrl ?? appModuleUrl;
  if (!moduleUrl) throw new Error("cannot tell which module defines the app; pass moduleUrl or start it with `loopwise run module:app`");
  const headersTimeout = options.headersTimeout ?? defaults.headersTimeout;
  const workerMemoryMb = options.workerMemoryMb ?? defaults.workerMemoryMb();
  const poolSize = options.poolSize ?? defaults.poolSize();
  return {
    host: options.host ?? defaults.host,
    port: options.port ?? defaults.port,
    redis: checkedRedisUrl(options.redis),
    poolSize,
    maxPoolSize: checkedMaxPoolSize(options.maxPoolSize, poolSize),
    workerIdleTimeout: options.workerIdleTimeout ?? defaults.workerIdleTimeout,
    logFormat: options.logFormat ?? defaults.logFormat,
    logLevel: checkedLogLevel(options.logLevel),
    accessLog: options.accessLog ?? defaults.accessLog,
    logWrite: options.logWrite,
    bodyLimit: options.bodyLimit ?? defaults.bodyLimit,
    jsonDepthLimit: checkedDepthLimit(options.jsonDepthLimit),
    backlog: options.backlog ?? defaults.backlog,
    limitConcurrency: options.limitConcurrency === undefined ? undefined : checkedPositive("limitConcurrency", options.limitConcurrency),
    limitMaxRequests: options.limitMaxRequests === undefined ? undefined : checkedPositive("limitMaxRequests", options.limitMaxRequests),
    headers: checkedHeaders(options.headers ?? []),
    probes: checkedProbes(options.probes),
    keepAliveTimeout: options.keepAliveTimeout ?? defaults.keepAliveTimeout,
    headersTimeout,
    // Node requires the whole-request limit to be at least the headers' one.
    requestTimeout: Math.max(options.requestTimeout ?? defaults.requestTimeout, headersTimeout),
    timeout: options.timeout,
    maxQueue: options.maxQueue ?? defaults.maxQueue,
    maxQueueWait: options.maxQueueWait ?? defaults.maxQueueWait,
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
    ...deploymentConfig(options),
    websocketPingInterval: checkedNonNegative("websocketPingInterval", options.websocketPingInterval ?? defaults.websocketPingInterval),
    websocketMaxMessageSize: checkedPositive("websocketMaxMessageSize", options.websocketMaxMessageSize ?? defaults.websocketMaxMessageSize),
  };
}

/** The options for serving behind a proxy, over TLS or on a Unix socket, checked. */
function deploymentConfig(options: ServeOptions) {
  const forwardedAllowIps = options.forwardedAllowIps ?? defaults.forwardedAllowIps;
  const trusted = typeof forwardedAllowIps === "string" ? forwardedAllowIps.split(",") : [...forwardedAllowIps];
  TrustedProxies.parse(trusted); // a mistyped entry is a startup error, not a proxy silently distrusted
  const { sslKeyfile, sslCertfile, sslKeyfilePassword } = options;
  if ((sslKeyfile === undefined) !== (sslCertfile === undefined)) throw new RangeError("HTTPS needs both sslKeyfile and sslCertfile");
  if (sslKeyfilePassword !== undefined && sslKeyfile === undefined) throw new RangeError("sslKeyfilePassword is given without sslKeyfile");
  if (options.uds !== undefined && options.uds.trim() === "") throw new RangeError("uds must be a path, got an empty string");
  return {
    proxyHeaders: options.proxyHeaders ?? options.forwardedAllowIps !== undefined,
    forwardedAllowIps: trusted.map((entry) => entry.trim()).filter((entry) => entry !== ""),
    rootPath: checkedRootPath(options.rootPath),
    sslKeyfile,
    sslCertfile,
    sslKeyfilePassword,
    uds: options.uds,
  };
}

/** "/api/" and "/api" are the same prefix; "/" is none. Links are built as rootPath + path. */
function checkedRootPath(rootPath: string | undefined): string {
  if (rootPath === undefined || rootPath === "") return "";
  if (!/^\/[^\s?#\p{Cc}]*$/u.test(rootPath))
    throw new RangeError(`rootPath must be a path starting with "/" (no query, fragment or spaces), got "${rootPath}"`);
  return rootPath.replace(/\/+$/, "");
}

/** The max as given, or the default for this core; a max below the core is an error, not silently raised. */
function checkedMaxPoolSize(max: number | undefined, core: number): number {
  if (max === undefined) return defaults.maxPoolSize(core);
  if (!(Number.isInteger(max) && max >= core)) throw new RangeError(`maxPoolSize must be a whole number at least poolSize (${core}), got ${max}`);
  return max;
}

function checkedNonNegative(name: string, value: number): number {
  // Node's timers hold at most 2^31 - 1 ms.
  if (!(value >= 0 && value <= 2 ** 31 - 1)) throw new RangeError(`${name} must be a number of ms from 0 to 2147483647, got ${value}`);
  return value;
}

function checkedPositive(name: string, value: number): number {
  if (!(Number.isSafeInteger(value) && value > 0)) throw new RangeError(`${name} must be a positive whole number, got ${value}`);
  return value;
}

function checkedRedisUrl(url: string | undefined): string | undefined {
  if (url !== undefined) parseRedisUrl(url);
  return url;
}

/** "name: value" or [name, value], checked as Node checks a header, so a bad one fails at startup, not on every response. */
function checkedHeaders(headers: (string | [string, string])[]): [string, string][] {
  return headers.map((header) => {
    const [name, value] = typeof header === "string" ? splitHeader(header) : header;
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch (error) {
      throw new RangeError(`header ${JSON.stringify(header)} cannot be sent: ${(error as Error).message}`);
    }
    return [name.toLowerCase(), value];
  });
}

function splitHeader(header: string): [string, string] {
  const colon = header.indexOf(":");
  if (colon <= 0) throw new RangeError(`header must be "name:value", got ${JSON.stringify(header)}`);
  return [header.slice(0, colon).trim(), header.slice(colon + 1).trim()];
}

function checkedProbes(probes: ServeOptions["probes"]): Config["probes"] {
  if (probes === undefined || probes === false) return undefined;
  const paths = { live: "/livez", ready: "/readyz", ...(probes === true ? {} : probes) };
  for (const path of [paths.live, paths.ready]) {
    if (!/^\/[^\s?#]*$/.test(path)) throw new RangeError(`a probe's path must start with "/" (no query or spaces), got ${JSON.stringify(path)}`);
  }
  if (paths.live === paths.ready) throw new RangeError(`the liveness and readiness probes need paths of their own, got ${paths.live} for both`);
  return paths;
}

function checkedLogLevel(level: LogLevel | undefined): LogLevel {
  levelNumber(level); // a misspelt level is a startup error naming the levels
  return level ?? defaults.logLevel;
}

function checkedDepthLimit(limit: number | undefined): number {
  if (limit === undefined) return defaults.jsonDepthLimit;
  if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`jsonDepthLimit must be a whole number of levels, at least 1, got ${limit}`);
  return limit;
}
