// Starts one server under test in its own process, so peers never share a loop or a heap.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = `${root}dist/cli/main.js`;

export interface PeerSpec {
  name: string;
  /** The program to start; Node itself unless told. */
  command?: string;
  /** Arguments after the program (for Node, after the node binary). */
  args: string[];
  env?: Record<string, string>;
}

export interface Peer {
  name: string;
  url: string;
  pid: number;
  child: ChildProcess;
  /** JSON lines the server wrote to stdout (Loopwise's access log when it is on). */
  stdoutLines: string[];
  stats(reset?: boolean): Promise<{ loopDelayP99Ms: number; loopDelayMaxMs: number; rssMb: number; cpuMs: number }>;
  stop(): Promise<void>;
}

export const peers = {
  rawHttp: (): PeerSpec => ({ name: "node:http", args: ["--import", "tsx", "bench/peers/raw-http.ts"] }),
  /** node:http with an async handler and JSON made per request: what any framework's hello pays at least. */
  rawHttpAsync: (): PeerSpec => ({ name: "node:http, async + JSON", args: ["--import", "tsx", "bench/peers/raw-http.ts"], env: { RAW_ASYNC: "1" } }),
  /** node:http and @fastify/busboy piping each uploaded file to a temporary file: the floor for uploads. */
  rawUpload: (): PeerSpec => ({ name: "node:http + busboy", args: ["--import", "tsx", "bench/peers/raw-upload.ts"] }),
  fastify: (): PeerSpec => ({ name: "Fastify", args: ["--import", "tsx", "bench/peers/fastify.ts"] }),
  fastifyPiscina: (maxThreads?: number): PeerSpec => ({
    name: maxThreads ? `Fastify + Piscina (maxThreads ${maxThreads})` : "Fastify + Piscina (default)",
    args: ["--import", "tsx", "bench/peers/fastify-piscina.ts"],
    env: maxThreads ? { PISCINA_MAX_THREADS: String(maxThreads) } : {},
  }),
  loopwise: (name = "Loopwise", extra: string[] = []): PeerSpec => ({
    name,
    args: [cli, "run", "bench/peers/loopwise-app.ts:app", "--port", "0", "--log-format", "json", "--no-access-log", ...extra],
  }),
  /** The seed app as a user runs it: default settings, access log on (JSON lines, to read them). */
  loopwiseSeed: (sleepMs: number, name = "Loopwise", extra: string[] = []): PeerSpec => ({
    name,
    args: [cli, "run", "examples/seed/main.ts:app", "--port", "0", "--log-format", "json", ...extra],
    env: { SLEEP_MS: String(sleepMs) },
  }),
  /** The same seed app in FastAPI, on uvicorn's defaults, with Debian's interpreter and packages. */
  fastapiSeed: (sleepMs: number): PeerSpec => ({
    name: "FastAPI + uvicorn",
    command: debianPython,
    args: ["bench/peers/fastapi_seed.py"],
    env: { SLEEP_MS: String(sleepMs), PYTHONUNBUFFERED: "1" },
  }),
};

/** Debian's own interpreter, where python3-fastapi lives, whatever python3 the PATH finds first. */
export const debianPython = "/usr/bin/python3";

export async function startPeer(spec: PeerSpec): Promise<Peer> {
  const child = spawn(spec.command ?? process.execPath, spec.args, {
    cwd: root,
    env: { ...process.env, ...spec.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stderr: string[] = [];
  const stdoutLines: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => stdoutLines.push(line));
  // A program that cannot be started at all (ENOENT) emits "error" and never "exit".
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", (error) => {
      stderr.push(String(error));
      resolve();
    });
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${spec.name} did not start:\n${stderr.join("\n")}`)), 30_000);
    createInterface({ input: child.stderr! }).on("line", (line) => {
      stderr.push(line);
      if (!line.startsWith("{")) return;
      const parsed = JSON.parse(line) as { event?: string; url?: string };
      if (parsed.event === "listening" && parsed.url) {
        clearTimeout(timer);
        resolve(parsed.url);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${spec.name} exited before listening:\n${stderr.join("\n")}`));
    });
  });
  return {
    name: spec.name,
    url,
    pid: child.pid!,
    child,
    stdoutLines,
    async stats(reset = false) {
      const response = await fetch(`${url}/stats${reset ? "?reset" : ""}`);
      return (await response.json()) as Awaited<ReturnType<Peer["stats"]>>;
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Starts a peer, runs `work` against it, and always stops it. */
export async function withPeer<T>(spec: PeerSpec, work: (peer: Peer) => Promise<T>): Promise<T> {
  const peer = await startPeer(spec);
  try {
    return await work(peer);
  } finally {
    await peer.stop();
  }
}
