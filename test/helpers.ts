// Shared test helpers: real sockets, real child processes, captured log lines.
import { spawn, type ChildProcess } from "node:child_process";
import { request as httpRequest, type OutgoingHttpHeaders } from "node:http";
import { connect, Server } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Route } from "../src/app/router.ts";

export const cliPath = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
export const seedApp = fileURLToPath(new URL("../examples/seed/main.ts", import.meta.url));

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
  /** Epoch ms when the whole response had arrived. */
  doneAt: number;
}

export interface RequestOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  /** false (default): a connection of its own, like a separate browser tab. */
  keepAlive?: boolean;
}

/** One HTTP request over a real socket. */
export function request(url: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? "GET", headers: options.headers, agent: options.keepAlive ? undefined : false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, doneAt: Date.now() });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** A log sink for serve({ logWrite }) that keeps every line. */
export function captureLogs() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    write: (chunk: string, stream: "out" | "err") => {
      for (const line of chunk.split("\n")) if (line !== "") (stream === "out" ? out : err).push(line);
    },
  };
}

export interface ChildServer {
  url: string;
  child: ChildProcess;
  /** Parsed JSON lines the server wrote to stdout (access log). */
  access: Record<string, any>[];
  /** Every stderr line, raw. */
  stderr: string[];
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * Starts `loopwise run SPEC` in a child process with JSON logs; resolves once it listens. `cli`
 * and `cwd` run another copy of the command (an installed package's) from another folder;
 * `limits` are `ulimit` flags for it (`["-n", "128"]`: file descriptors; `["-f", "256"]`: file size in KiB).
 */
export async function spawnServer(
  spec: string,
  args: string[] = [],
  env: Record<string, string> = {},
  { cli = cliPath, cwd, limits = [] }: { cli?: string; cwd?: string; limits?: string[] } = {},
): Promise<ChildServer> {
  const command = [cli, "run", spec, "--port", "0", "--log-format", "json", ...args];
  const options = { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] as ["ignore", "pipe", "pipe"] };
  const child =
    limits.length === 0
      ? spawn(process.execPath, command, options)
      : spawn("bash", ["-c", `ulimit ${limits.join(" ")} && exec "$0" "$@"`, process.execPath, ...command], options);
  const access: Record<string, any>[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => access.push(JSON.parse(line)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr.join("\n")}`)), 30_000);
    createInterface({ input: child.stderr! }).on("line", (line) => {
      stderr.push(line);
      try {
        const parsed = JSON.parse(line);
        if (parsed.event === "listening") {
          clearTimeout(timer);
          resolve(parsed.url);
        }
      } catch {
        // not JSON: a stack trace or a crash message; kept in stderr
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${stderr.join("\n")}`));
    });
  });
  return {
    url,
    child,
    access,
    stderr,
    exited,
    stop: (signal = "SIGTERM") => {
      if (child.exitCode === null) child.kill(signal);
      const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      return exited.finally(() => clearTimeout(killer));
    },
  };
}

/** Runs the CLI to completion and returns its exit code and output (`cli` and `cwd` as for spawnServer). */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
  { cli = cliPath, cwd }: { cli?: string; cwd?: string } = {},
) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A route with the fields the published types leave out, for the tests that read them. */
export const internalRoute = (route: unknown): Route => route as Route;

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until every worker of the server's pool is ready again (after a crash or a timeout). */
export async function waitForFullPool(server: { pool: { ready: number; size: number } }): Promise<void> {
  for (let i = 0; i < 400 && server.pool.ready < server.pool.size; i++) await delay(25);
  if (server.pool.ready < server.pool.size) throw new Error("the pool did not heal");
}

/**
 * Writes raw bytes on a socket of its own; resolves with everything the server sent until it
 * closed (or `waitMs` passed). `end` half-closes after writing; node:http aborts a request whose
 * client half-closes before the body is read, so tests of bodies keep it open.
 */
export function rawExchange(port: number, payload: string | Buffer, { end = true, waitMs = 5000 } = {}): Promise<string> {
  return new Promise((resolve) => {
    let data = "";
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(payload);
      if (end) socket.end();
    });
    socket.on("data", (d) => (data += d.toString("latin1")));
    socket.on("close", () => resolve(data));
    socket.on("error", () => resolve(data));
    socket.setTimeout(waitMs, () => socket.destroy());
  });
}

/** The status of a raw HTTP/1.1 response (0 if there was none). */
export const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);

/**
 * Polls `find` every 20 ms until it gives something other than undefined or false, and returns
 * that; fails after `timeoutMs`, naming `what` it waited for.
 */
export async function until<T>(
  find: () => T | undefined | false | Promise<T | undefined | false>,
  what = "the condition",
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined && found !== false) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

/** Runs `work` and returns the arguments of every `listen()` a net server made meanwhile (a TestClient must make none). */
export async function listensDuring(work: () => Promise<void>): Promise<unknown[]> {
  const listening: unknown[] = [];
  const listen = Server.prototype.listen;
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    listening.push(args);
    return listen.apply(this, args as never);
  } as typeof listen;
  try {
    await work();
  } finally {
    Server.prototype.listen = listen;
  }
  return listening;
}
