// The flags of each `loopwise` command, with their help and defaults, in one table: parsing,
// `--help` and the reference docs all follow it. A flag not given is left out, so the defaults
// stay in server/config.ts alone.
import { parseArgs } from "node:util";
import { defaults } from "../server/config.js";

export class UsageError extends Error {
  /** The usage to print after the message: the command's own, once known (else the top level's). */
  help: string | undefined;
}

export interface Flag {
  name: string;
  /** How the value is written in --help (`N`, `MS`); none for a switch. */
  value?: string;
  /** "strings": may be given more than once, each value kept. */
  kind: "integer" | "string" | "strings" | "switch";
  /** Smallest integer accepted. */
  min?: number;
  choices?: string[];
  help: string;
  /** The default as --help shows it. */
  shows: string;
}

const redisFlag: Flag = {
  name: "redis",
  value: "URL",
  kind: "string",
  help: "Redis of the queue lane and durable jobs: redis://[user:password@]host[:port][/db] or rediss://",
  shows: "none",
};

/** As uvicorn's: a `.env` file's variables, set before the app is imported (what its settings read). */
export const envFileFlag: Flag = {
  name: "env-file",
  value: "FILE",
  kind: "string",
  help: "load environment variables from this file before importing the app",
  shows: "none",
};

export const runFlags: Flag[] = [
  { name: "host", value: "HOST", kind: "string", help: "address to listen on", shows: defaults.host },
  { name: "port", value: "N", kind: "integer", min: 0, help: "port to listen on; 0 picks a free one", shows: String(defaults.port) },
  {
    name: "pool-size",
    value: "N",
    kind: "integer",
    min: 1,
    help: "worker threads always running per process (the pool's core)",
    shows: `twice the cores, 4 to 16 (here ${defaults.poolSize()})`,
  },
  {
    name: "max-pool-size",
    value: "N",
    kind: "integer",
    min: 1,
    help: "most worker threads while work waits on blocked ones (never for CPU-bound work)",
    shows: `4 per core, 40 to 256, or the pool size if larger (here ${defaults.maxPoolSize(defaults.poolSize())})`,
  },
  {
    name: "worker-idle-timeout",
    value: "MS",
    kind: "integer",
    min: 1,
    help: "a worker above the pool size idle this long is stopped",
    shows: String(defaults.workerIdleTimeout),
  },
  {
    name: "worker-memory",
    value: "MB",
    kind: "integer",
    min: 16,
    help: "heap cap of each worker; a worker past it dies alone (500) and is replaced",
    shows: `1/32 of the memory, 128 to 1024 (here ${defaults.workerMemoryMb()})`,
  },
  { name: "timeout", value: "MS", kind: "integer", min: 1, help: "time limit for routes without their own (504 after it)", shows: "none" },
  {
    name: "max-queue",
    value: "N",
    kind: "integer",
    min: 0,
    help: "requests that may wait for a worker thread, or on the queue lane for a worker process (a memory cap); more get 503",
    shows: String(defaults.maxQueue),
  },
  {
    name: "max-queue-wait",
    value: "MS",
    kind: "integer",
    min: 1,
    help: "longest a worker-lane request may wait for a worker; longer gets 503 + Retry-After",
    shows: String(defaults.maxQueueWait),
  },
  {
    name: "grace-period",
    value: "MS",
    kind: "integer",
    min: 0,
    help: "how long shutdown waits for requests in flight",
    shows: String(defaults.gracePeriod),
  },
  {
    name: "log-format",
    value: "text|json",
    kind: "string",
    choices: ["text", "json"],
    help: "log lines as text or JSON lines",
    shows: defaults.logFormat,
  },
  {
    name: "log-level",
    value: "LEVEL",
    kind: "string",
    choices: ["critical", "error", "warning", "info", "debug", "trace"],
    help: "the least severe lines written (access lines are info)",
    shows: defaults.logLevel,
  },
  { name: "no-access-log", kind: "switch", help: "no access log line per request", shows: "access log on" },
  {
    name: "block-threshold",
    value: "MS",
    kind: "integer",
    min: 1,
    help: "what the loop monitor reports as a blocked loop",
    shows: String(defaults.blockThresholdMs),
  },
  { name: "no-loop-monitor", kind: "switch", help: "turn the loop monitor off", shows: "monitor on" },
  { name: "metrics", kind: "switch", help: "Prometheus metrics at /metrics", shows: "off" },
  { name: "dev", kind: "switch", help: "the live lanes page at /_loopwise (never in production)", shows: "off" },
  { name: "workers", value: "N", kind: "integer", min: 1, help: "server processes sharing the port, each with its own pool", shows: "1" },
  { name: "reload", kind: "switch", help: "restart on source changes (development; not with --workers)", shows: "off" },
  {
    name: "proxy-headers",
    kind: "switch",
    help: "client address and scheme from X-Forwarded-For/-Proto, sent by a trusted proxy",
    shows: "off; on with --forwarded-allow-ips",
  },
  {
    name: "forwarded-allow-ips",
    value: "IPS",
    kind: "string",
    help: "proxies trusted with --proxy-headers: comma-separated addresses, CIDR ranges, or '*'",
    shows: defaults.forwardedAllowIps,
  },
  { name: "root-path", value: "PATH", kind: "string", help: "the prefix a proxy serves the app under (and strips)", shows: "none" },
  { name: "ssl-keyfile", value: "FILE", kind: "string", help: "serve HTTPS: the PEM private key (with --ssl-certfile)", shows: "none" },
  { name: "ssl-certfile", value: "FILE", kind: "string", help: "serve HTTPS: the PEM certificate, chain after it", shows: "none" },
  { name: "ssl-keyfile-password", value: "PASSWORD", kind: "string", help: "passphrase of an encrypted --ssl-keyfile", shows: "none" },
  {
    name: "limit-concurrency",
    value: "N",
    kind: "integer",
    min: 1,
    help: "requests in flight (both lanes) past which new ones get 503 + Retry-After",
    shows: "none",
  },
  {
    name: "limit-max-requests",
    value: "N",
    kind: "integer",
    min: 1,
    help: "with --workers: a server process restarts after about N requests (up to 10% jitter, so they do not all restart at once)",
    shows: "none",
  },
  {
    name: "timeout-keep-alive",
    value: "S",
    kind: "integer",
    min: 1,
    help: "close an idle keep-alive connection after S seconds",
    shows: String(defaults.keepAliveTimeout / 1000),
  },
  { name: "backlog", value: "N", kind: "integer", min: 1, help: "connections the OS queues for accept()", shows: String(defaults.backlog) },
  {
    name: "header",
    value: "NAME:VALUE",
    kind: "strings",
    help: "a header sent with every response; repeat for more",
    shows: "none",
  },
  {
    name: "probes",
    kind: "switch",
    help: "liveness at /livez and readiness at /readyz, for load balancers and Kubernetes",
    shows: "off",
  },
  { name: "uds", value: "PATH", kind: "string", help: "listen on this Unix socket instead of --host/--port", shows: "none" },
  redisFlag,
  envFileFlag,
];

/** `loopwise worker`: no HTTP flags; the pool's, the log's, the monitor's (with its own words where jobs replace requests), and the queue's. */
const sharedWithWorker: Record<string, string | undefined> = {
  "pool-size": undefined,
  "max-pool-size": undefined,
  "worker-idle-timeout": undefined,
  "worker-memory": undefined,
  "max-queue": "plain handlers' tasks that may wait for a worker thread (a memory cap)",
  "max-queue-wait": "longest a plain handler's task may wait for a worker thread",
  "grace-period": "how long shutdown waits for the running jobs (then they go back to the queue)",
  "log-format": undefined,
  "log-level": undefined,
  "no-access-log": "no log line per job",
  "block-threshold": undefined,
  "no-loop-monitor": undefined,
  "env-file": undefined,
};

export const workerFlags: Flag[] = [
  { ...redisFlag, help: "Redis to take jobs from, the one the servers were given (required)", shows: "none" },
  {
    name: "concurrency",
    value: "N",
    kind: "integer",
    min: 1,
    help: "jobs this process runs at once (plain handlers on its pool, async ones on its loop)",
    shows: "the pool size",
  },
  ...runFlags.filter((flag) => flag.name in sharedWithWorker).map((flag) => ({ ...flag, help: sharedWithWorker[flag.name] ?? flag.help })),
];

export const demoFlags: Flag[] = [
  { name: "sleep", value: "MS", kind: "integer", min: 200, help: "how long the sleeping routes sleep", shows: "2000" },
  { name: "out", value: "FILE", kind: "string", help: "also draw both tests to an .svg or .html file", shows: "none" },
];

export const checkFlags: Flag[] = [{ name: "json", kind: "switch", help: "print the report as JSON (for CI)", shows: "text" }, envFileFlag];

export interface Parsed {
  /** The flags given, by name, parsed: integers as numbers, switches as true. */
  given: Record<string, string | number | boolean | string[]>;
  positionals: string[];
  help: boolean;
}

/** Parses `args` against `flags`; throws UsageError with a message naming the flag. */
export function parseFlags(args: string[], flags: Flag[]): Parsed {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = { help: { type: "boolean", short: "h" } };
  for (const flag of flags) options[flag.name] = { type: flag.kind === "switch" ? "boolean" : "string", multiple: flag.kind === "strings" };
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof options; strict: true }>>;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options, strict: true });
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const unknown = code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? /'(-[^']*)'/.exec(message)?.[1] : undefined;
    if (unknown === undefined) throw new UsageError(message);
    const near = closest(unknown.replace(/^-+/, "").split("=")[0]!, ["help", ...flags.map((flag) => flag.name)]);
    throw new UsageError(`unknown option ${unknown}${near ? `; did you mean --${near}?` : ""}`);
  }
  const given: Parsed["given"] = {};
  for (const flag of flags) {
    const raw = parsed.values[flag.name];
    if (raw === undefined) continue;
    given[flag.name] = flag.kind === "integer" ? integer(String(raw), flag) : flag.kind === "strings" ? (raw as string[]) : (raw as string | boolean);
    if (flag.choices && !flag.choices.includes(String(raw))) {
      throw new UsageError(`--${flag.name} must be ${flag.choices.join(" or ")}, got "${raw}"`);
    }
  }
  return { given, positionals: parsed.positionals, help: parsed.values.help === true };
}

/** The candidate nearest to `word` (at most a third of its letters off), for a "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = candidate.startsWith(word) && word.length >= 3 ? 0.5 : editDistance(word, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Levenshtein distance, a swap of two neighbours counting one (`--prot` is one off `--port`). */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = rows[i]!;
      row[j] = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1);
    }
  }
  return rows[a.length]![b.length]!;
}

function integer(value: string, flag: Flag): number {
  const parsed = Number(value);
  const min = flag.min ?? 0;
  if (value.trim() === "" || !Number.isInteger(parsed) || parsed < min)
    throw new UsageError(`--${flag.name} must be an integer ≥ ${min}, got "${value}"`);
  return parsed;
}

/** The help of one command: its usage line, then each flag with its default, as uvicorn lists them. */
export function helpText(usage: string, summary: string, flags: Flag[]): string {
  const rows = flags.map((flag) => [`--${flag.name}${flag.value ? ` ${flag.value}` : ""}`, `${flag.help} [default: ${flag.shows}]`]);
  rows.push(["-h, --help", "show this message and exit"]);
  const width = Math.max(...rows.map(([left]) => left!.length));
  return `Usage: ${usage}\n\n${summary}\n\nOptions:\n${rows.map(([left, right]) => `  ${left!.padEnd(width)}  ${right}`).join("\n")}`;
}
