// `loopwise run` flags → serve() options, for the flags given only: the defaults live in server/config.ts.
import type { ServeOptions } from "../server/config.js";
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
  set("metrics", "metrics");
  set("dev", "dev");
  set("proxyHeaders", "proxy-headers");
  set("forwardedAllowIps", "forwarded-allow-ips");
  set("rootPath", "root-path");
  set("sslKeyfile", "ssl-keyfile");
  set("sslCertfile", "ssl-certfile");
  set("sslKeyfilePassword", "ssl-keyfile-password");
  set("uds", "uds");
  if (given["no-access-log"]) options.accessLog = false;
  if (given["no-loop-monitor"]) options.loopMonitor = false;
  else if (given["block-threshold"] !== undefined) options.loopMonitor = { thresholdMs: given["block-threshold"] as number };
  return options;
}
