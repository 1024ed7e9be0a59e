// A real Redis for the queue-lane tests: Debian's redis-server (scripts/ensure-redis.sh installs
// it) on a free loopback port, with no persistence and its folder in a temporary directory, and
// `loopwise worker` processes started against it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before } from "node:test";
import { type ChildServer, cliPath, fixture, spawnServer } from "./helpers.ts";

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** SIGKILLs redis-server, as a crash would; `restart()` brings it back on the same port (and, when it persists, with its data). */
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** SIGSTOPs redis-server: its connections stay open and answer nothing, as a frozen host's would; `thaw()` resumes it. */
  freeze(): void;
  thaw(): void;
}

export interface RedisOptions {
  /** Keeps every write in an append-only file synced at once, so a killed Redis restarts with its jobs (default false). */
  persistent?: boolean;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Starts redis-server on a free port; resolves once it accepts connections. */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), "loopwise-redis-"));
    const port = await freePort();
    const persistence = options.persistent ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...persistence, "--dir", dir, "--daemonize", "no"];
    let running = await runRedis(args);
    const stop = async () => {
      await running.stop("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    };
    const kill = () => running.stop("SIGKILL");
    const restart = async () => {
      running = await runRedis(args);
      if (!running.ready) throw new Error(`redis-server did not restart on port ${port}`);
    };
    const freeze = () => running.signal("SIGSTOP");
    const thaw = () => running.signal("SIGCONT");
    if (running.ready) return { url: `redis://127.0.0.1:${port}`, port, stop, kill, restart, freeze, thaw };
    await stop();
    // Another process took the port between the probe and redis-server's bind: try another.
    if (attempt === 3) throw new Error("redis-server did not start (is it installed? see scripts/ensure-redis.sh)");
  }
}

async function runRedis(
  args: string[],
): Promise<{ ready: boolean; stop(signal: NodeJS.Signals): Promise<void>; signal(signal: NodeJS.Signals): void }> {
  const child = spawn("redis-server", [...args, "--maxmemory-policy", "noeviction", "--loglevel", "notice"], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    void exited.then(() => resolve(false));
  });
  return {
    ready,
    stop: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      if (signal !== "SIGKILL") child.kill("SIGCONT"); // a frozen one must run to handle SIGTERM
      await exited;
    },
    signal: (signal) => void child.kill(signal),
  };
}

export interface ChildWorker {
  child: ChildProcess;
  pid: number;
  /** Parsed JSON lines of stdout: one per job done. */
  jobs: Record<string, any>[];
  /** Every stderr line, raw. */
  stderr: string[];
  exited: Promise<number | null>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `loopwise worker SPEC --redis URL` with JSON logs; resolves once it takes jobs. */
export async function spawnWorker(spec: string, redisUrl: string, args: string[] = [], env: Record<string, string> = {}): Promise<ChildWorker> {
  const child = spawn(process.execPath, [cliPath, "worker", spec, "--redis", redisUrl, "--log-format", "json", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const jobs: Record<string, any>[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => jobs.push(JSON.parse(line)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${stderr.join("\n")}`)), 30_000);
    createInterface({ input: child.stderr! }).on("line", (line) => {
      stderr.push(line);
      if (line.includes('"event":"consuming"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before taking jobs:\n${stderr.join("\n")}`));
    });
  });
  return {
    child,
    pid: child.pid!,
    jobs,
    stderr,
    exited,
    stop: (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const killer = setTimeout(() => child.kill("SIGKILL"), 40_000);
      return exited.finally(() => clearTimeout(killer));
    },
  };
}

/** Polls `check` until it is true (every 50 ms, at most `ms`). */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 20_000, what = "the condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** How many lines of a RUN_LOG (see fixtures/queue-app.ts) start with `what `: how many times it ran, over every process. */
export function runCount(runLog: string, what: string): number {
  let text = "";
  try {
    text = readFileSync(runLog, "utf8");
  } catch {}
  return text.split("\n").filter((line) => line.startsWith(`${what} `)).length;
}

/** A Redis, a server and one worker process serving the queue fixture app, whose jobs log each run to a file. */
export interface QueueRig {
  redis: RedisServer;
  server: ChildServer;
  worker: ChildWorker;
  /** How many times the slow job tagged `tag` has started. */
  runs(tag: string): number;
}

/** Starts a QueueRig before the enclosing suite's tests and stops it after them. */
export function queueRig(options: { persistent?: boolean; serverArgs?: string[]; workerArgs: string[]; workerStop?: NodeJS.Signals }): QueueRig {
  const spec = `${fixture("queue-app.ts")}:app`;
  const dir = mkdtempSync(join(tmpdir(), "loopwise-queue-"));
  const env = { RUN_LOG: join(dir, "runs.log") };
  const rig = { runs: (tag: string) => runCount(env.RUN_LOG, `slow:${tag}`) } as QueueRig;
  before(async () => {
    rig.redis = await startRedis({ persistent: options.persistent });
    rig.server = await spawnServer(spec, ["--redis", rig.redis.url, "--pool-size", "1", ...(options.serverArgs ?? [])], env);
    rig.worker = await spawnWorker(spec, rig.redis.url, options.workerArgs, env);
  });
  after(async () => {
    await Promise.all([rig.server?.stop(), rig.worker?.stop(options.workerStop)]);
    await rig.redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return rig;
}
