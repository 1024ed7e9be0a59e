// `loopwise run` flags → serve() options, for the flags given only: the defaults live in server/config.ts.
import type { ServeOptions } from "../server/config.js";
import type { WorkerProcessOptions } from "../server/worker-process.js";
import type { Parsed } from "./flags.js";

/** The serve() options for the `run` flags that were given, and only those. */
export function serveOptions(given: Parsed["given"]): ServeOptions {
  const options: ServeOptions = {};
  const set = <K extends keyof ServeOptions>(key: K, flag: string) => {
    if (given[flag] !== undefined) options[key] = given[flag] as ServeOptions[K];
  };
  set("host", "host");
  set("port", "port");
  set("poolSize", "pool-size");
  set("maxPoolSize", "max-pool-size");
  set("workerIdleTimeout", "worker-idle-timeout");
  set("workerMemoryMb", "worker-memory");
  set("timeout", "timeout");
  set("maxQueue", "max-queue");
  set("maxQueueWait", "max-queue-wait");
  set("gracePeriod", "grace-period");
  set("logFormat", "log-format");
  set("logLevel", "log-level");
  set("limitConcurrency", "limit-concurrency");
  set("limitMaxRequests", "limit-max-requests");
  set("backlog", "backlog");
  set("probes", "probes");
  if (given["timeout-keep-alive"] !== undefined) options.keepAliveTimeout = (given["timeout-keep-alive"] as number) * 1000;
  if (given.header !== undefined) options.headers = given.header as string[];
  set("metrics", "metrics");
  set("dev", "dev");
  set("proxyHeaders", "proxy-headers");
  set("forwardedAllowIps", "forwarded-allow-ips");
  set("rootPath", "root-path");
  set("sslKeyfile", "ssl-keyfile");
  set("sslCertfile", "ssl-certfile");
  set("sslKeyfilePassword", "ssl-keyfile-password");
  set("uds", "uds");
  set("redis", "redis");
  if (given["no-access-log"]) options.accessLog = false;
  if (given["no-loop-monitor"]) options.loopMonitor = false;
  else if (given["block-threshold"] !== undefined) options.loopMonitor = { thresholdMs: given["block-threshold"] as number };
  return options;
}

/** The runWorker() options for the `worker` flags that were given (`--redis` is checked by the caller). */
export function workerOptions(given: Parsed["given"]): WorkerProcessOptions {
  // The worker's flags are a subset of run's: only the shared ones can be here.
  const options: WorkerProcessOptions = { ...serveOptions(given), redis: given.redis as string };
  if (given.concurrency !== undefined) options.concurrency = given.concurrency as number;
  return options;
}
