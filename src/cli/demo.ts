// `loopwise demo`: serves the seed app in a child process, replays the seed's Test 1 and Test 2
// over real sockets, prints the access log, a timeline per test and what it shows.
import { logLevels } from "../log/levels.js";
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { extname } from "node:path";
import { get } from "node:http";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { accessFromJson, formatAccessText, type AccessRecord } from "../server/access-line.js";
import { renderTimeline, type TimelineRow } from "./timeline.js";
import { pictureAsHtml, renderPicture, type PicturePanel } from "./timeline-svg.js";

export interface DemoOptions {
  sleepMs: number;
  /** Also draw both tests into this file: an .svg picture, or an .html page holding it. */
  out?: string;
  /** Where the report goes (default stdout). */
  print?: (text: string) => void;
}

// "../cli/" so it resolves wherever the bundle puts this code (dist/cli/ or dist/chunks/).
const cli = fileURLToPath(new URL("../cli/main.js", import.meta.url));
const seedApp = fileURLToPath(new URL("../../examples/seed/main.ts", import.meta.url));
const gapMs = 50;
const now = () => performance.timeOrigin + performance.now();

/** A warning line of the server's loop monitor. */
interface MonitorWarning {
  /** Epoch ms (pino's time). */
  time: number;
  event: string;
  /** Epoch ms when the block began (loop-blocked only). */
  start?: number;
  blocked_ms?: number;
  msg: string;
  route: string | null;
}

interface TestRun {
  sent: Sent[];
  warnings: MonitorWarning[];
}

interface Sent {
  path: string;
  sentAt: number;
  doneAt: number;
  status: number;
  record: AccessRecord;
}

/** Runs both tests; resolves true when Loopwise behaved as the seed describes. */
export async function runDemo(options: DemoOptions): Promise<boolean> {
  const print = options.print ?? ((text: string) => console.log(text));
  const { sleepMs } = options;
  print(`Loopwise demo: the FastAPI "def vs async def" experiment (sleep = ${sleepMs} ms)\n`);
  const server = await startSeedServer(sleepMs);
  try {
    print(`Serving examples/seed/main.ts on ${server.url} with ${server.poolSize} worker threads.`);
    print(`Each test sends three GET requests, each on its own connection, ${gapMs} ms apart.\n`);

    const test1 = await runTest(server, ["/sync/sleep", "/async/hello", "/sync/hello"]);
    const verdict1 = judgeTest1(test1, sleepMs);
    report(print, "Test 1: /sync/sleep, /async/hello, /sync/hello", test1, verdict1);

    const test2 = await runTest(server, ["/async/sleep", "/async/hello", "/sync/hello"]);
    const verdict2 = judgeTest2(test2);
    report(print, "Test 2: /async/sleep, /async/hello, /sync/hello", test2, verdict2);

    const ok = verdict1.ok && verdict2.ok;
    if (options.out) {
      writePicture(options.out, [
        panel("Test 1: /sync/sleep, /async/hello, /sync/hello", test1, verdict1.caption),
        panel("Test 2: /async/sleep, /async/hello, /sync/hello", test2, verdict2.caption),
      ]);
      print(`The timelines are drawn in ${options.out}.\n`);
    }
    print(
      ok
        ? "Result: both tests behaved as in the FastAPI write-up. The lane a handler runs on is decided by how it is\n" +
            "declared; blocking work belongs in a plain function (worker pool), never in an async one (event loop)."
        : "Result: Loopwise did NOT behave as the write-up describes; see the failed checks above.",
    );
    return ok;
  } finally {
    await server.stop();
  }
}

function report(print: (text: string) => void, title: string, { sent, warnings }: TestRun, verdict: Verdict): void {
  const t0 = Math.min(...sent.map((s) => s.sentAt));
  print(`── ${title} ${"─".repeat(Math.max(0, 76 - title.length))}`);
  print("Access log:");
  for (const s of [...sent].sort((a, b) => a.doneAt - b.doneAt)) print(`  ${formatAccessText(s.record)}`);
  print("Loop monitor:");
  if (warnings.length === 0) print("  (silent: the event loop was never blocked for 100 ms or more)");
  for (const w of warnings) print(`  ${new Date(w.time).toISOString()} WARNING ${w.msg}`);
  print("");
  print(
    renderTimeline(
      "Timeline:",
      sent.map((s) => toRow(s, t0)),
    ),
  );
  print("");
  for (const line of verdict.lines) print(line);
  for (const failure of verdict.failures) print(`  ✗ ${failure}`);
  print("");
}

function panel(title: string, { sent, warnings }: TestRun, caption: string): PicturePanel {
  const t0 = Math.min(...sent.map((s) => s.sentAt));
  const blocks = warnings
    .filter((w) => w.event === "loop-blocked" && w.start !== undefined && w.blocked_ms !== undefined)
    .map((w) => ({
      from: w.start! - t0,
      to: w.start! - t0 + w.blocked_ms!,
      label: `⚠ ${w.route ?? "the loop"} blocked the event loop for ${w.blocked_ms} ms`,
    }));
  return { title, rows: sent.map((s) => toRow(s, t0)), blocks, caption };
}

function writePicture(path: string, panels: PicturePanel[]): void {
  const svg = renderPicture(panels);
  writeFileSync(path, extname(path).toLowerCase() === ".html" ? pictureAsHtml(svg, "Loopwise: def vs async def") : svg);
}

function toRow(s: Sent, t0: number): TimelineRow {
  const r = s.record;
  return {
    label: `${r.method} ${r.target}`,
    lane: r.lane,
    sent: s.sentAt - t0,
    ranFrom: r.start + (r.queuedMs ?? 0) - t0,
    ranTo: r.start + r.durationMs - t0,
    done: s.doneAt - t0,
    status: s.status,
  };
}

interface Verdict {
  ok: boolean;
  lines: string[];
  failures: string[];
  /** One line for the picture. */
  caption: string;
}

function byPath(sent: Sent[], path: string): Sent {
  return sent.find((s) => s.path === path)!;
}

const latency = (s: Sent) => Math.round(s.doneAt - s.sentAt);
const laneOk = (s: Sent, lane: "loop" | "worker") => (lane === "loop" ? s.record.lane === "loop" : s.record.lane.startsWith("worker#"));

function judgeTest1({ sent, warnings }: TestRun, sleepMs: number): Verdict {
  const sleep = byPath(sent, "/sync/sleep");
  const asyncHello = byPath(sent, "/async/hello");
  const syncHello = byPath(sent, "/sync/hello");
  const failures: string[] = [];
  if (!laneOk(sleep, "worker")) failures.push(`/sync/sleep ran on ${sleep.record.lane}, expected a worker`);
  if (!laneOk(asyncHello, "loop")) failures.push(`/async/hello ran on ${asyncHello.record.lane}, expected the loop`);
  if (!laneOk(syncHello, "worker")) failures.push(`/sync/hello ran on ${syncHello.record.lane}, expected a worker`);
  for (const hello of [asyncHello, syncHello]) {
    if (!(hello.doneAt < sleep.doneAt && latency(hello) < sleepMs / 2)) {
      failures.push(`${hello.path} took ${latency(hello)} ms: it should not have waited for the sleep`);
    }
  }
  if (latency(sleep) < sleepMs * 0.95) failures.push(`/sync/sleep answered after ${latency(sleep)} ms, before its sleep could end`);
  // A stall of the whole machine may be reported too; a route named as a blocker would be wrong.
  if (warnings.some((w) => w.route !== null)) failures.push("the loop monitor named a route as blocking the loop, but no handler should have");
  return {
    ok: failures.length === 0,
    failures,
    caption: `A plain function sleeps on ${sleep.record.lane}; the loop stays free, so both hellos answer in ${latency(asyncHello)} ms and ${latency(syncHello)} ms.`,
    lines: [
      `What happened: /sync/sleep is a plain function, so it slept on ${sleep.record.lane}, a thread of its own.`,
      `The event loop stayed free: /async/hello ran on it and /sync/hello went to ${syncHello.record.lane}; they were`,
      `answered in ${latency(asyncHello)} ms and ${latency(syncHello)} ms, while the sleep went on for ${latency(sleep)} ms. This is FastAPI's \`def\`.`,
    ],
  };
}

function judgeTest2({ sent, warnings }: TestRun): Verdict {
  const sleep = byPath(sent, "/async/sleep");
  const asyncHello = byPath(sent, "/async/hello");
  const syncHello = byPath(sent, "/sync/hello");
  const sleepEnd = sleep.record.start + sleep.record.durationMs;
  const failures: string[] = [];
  if (!laneOk(sleep, "loop")) failures.push(`/async/sleep ran on ${sleep.record.lane}, expected the loop`);
  if (!laneOk(asyncHello, "loop")) failures.push(`/async/hello ran on ${asyncHello.record.lane}, expected the loop`);
  if (!laneOk(syncHello, "worker")) failures.push(`/sync/hello ran on ${syncHello.record.lane}, expected a worker`);
  for (const hello of [asyncHello, syncHello]) {
    // 5 ms of slack for rounding between the two processes' clocks.
    if (hello.record.start + 5 < sleepEnd) failures.push(`${hello.path} was read by the server while the loop should have been blocked`);
  }
  if (!warnings.some((w) => w.event === "loop-blocked" && w.route === "GET /async/sleep")) {
    failures.push("the loop monitor did not name GET /async/sleep as the route that blocked the loop");
  }
  return {
    ok: failures.length === 0,
    failures,
    caption: `An async function sleeps on the event loop; both hellos wait for it (${latency(asyncHello)} ms, ${latency(syncHello)} ms), even the one bound for a worker.`,
    lines: [
      `What happened: /async/sleep is declared async, so it ran on the event loop, and sleepSync held the loop`,
      `for ${Math.round(sleep.record.durationMs)} ms. Nothing else could run meanwhile: /async/hello needs the loop, and so does`,
      `/sync/hello, even though it runs on a worker, because reading a request and handing it to the pool is`,
      `the loop's job. Both hellos were answered only after the sleep (${latency(asyncHello)} ms and ${latency(syncHello)} ms).`,
      `This is FastAPI's \`async def\` with time.sleep. The fix: make the handler a plain function, or keep it`,
      "async and `await offload(fn)` the blocking part. The loop monitor said so while it happened; before",
      "it runs, `npx loopwise check examples/seed/main.ts` finds it too: it names the sleepSync call in",
      "/async/sleep, the file and line, and the fix (docs/before-it-ships.md).",
    ],
  };
}

interface SeedServer {
  url: string;
  host: string;
  port: number;
  poolSize: number;
  /** Access records seen so far, consumed by each test. */
  records: AccessRecord[];
  /** Loop-monitor warnings seen so far, consumed by each test. */
  warnings: MonitorWarning[];
  waitForRecords(count: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

async function runTest(server: SeedServer, paths: string[]): Promise<TestRun> {
  server.records.length = 0;
  server.warnings.length = 0;
  const t0 = now();
  const responses = paths.map(
    (path, i) =>
      new Promise<{ path: string; sentAt: number; doneAt: number; status: number }>((resolve, reject) => {
        setTimeout(
          () => {
            const sentAt = now();
            // agent: false gives each request its own connection, like three browser tabs.
            const req = get({ host: server.host, port: server.port, path, agent: false }, (res) => {
              res.resume();
              res.on("end", () => resolve({ path, sentAt, doneAt: now(), status: res.statusCode ?? 0 }));
            });
            req.on("error", reject);
          },
          Math.max(0, t0 + i * gapMs - now()),
        );
      }),
  );
  const answered = await Promise.all(responses);
  await server.waitForRecords(paths.length, 5000);
  // The monitor reports a block a moment after it ends, once it has counted who waited.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const sent = answered.map((a) => {
    const record = server.records.find((r) => r.target === a.path);
    if (!record) throw new Error(`the server logged no access line for ${a.path}`);
    return { ...a, record };
  });
  return { sent, warnings: [...server.warnings] };
}

async function startSeedServer(sleepMs: number): Promise<SeedServer> {
  const poolSize = 4;
  const child = spawn(process.execPath, [cli, "run", `${seedApp}:app`, "--port", "0", "--log-format", "json", "--pool-size", String(poolSize)], {
    env: { ...process.env, SLEEP_MS: String(sleepMs) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const records: AccessRecord[] = [];
  let recordWaiter: (() => void) | undefined;
  readJsonLines(child.stdout!, (line) => {
    const record = accessFromJson(line);
    if (record) records.push(record);
    recordWaiter?.();
  });
  const errors: string[] = [];
  const warnings: MonitorWarning[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the seed server did not start in 30 s:\n${errors.join("\n")}`)), 30_000);
    readJsonLines(
      child.stderr!,
      (line) => {
        if (line.event === "listening") {
          clearTimeout(timer);
          resolve(String(line.url));
        } else if (line.level === logLevels.warning && String(line.event).startsWith("loop-blocked")) {
          warnings.push(line as unknown as MonitorWarning);
        }
      },
      (raw) => errors.push(raw),
    );
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the seed server exited with code ${code} before listening:\n${errors.join("\n")}`));
    });
  });
  const { hostname, port } = new URL(url);
  return {
    url,
    host: hostname,
    port: Number(port),
    poolSize,
    records,
    warnings,
    waitForRecords: (count, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${count} access lines, got ${records.length}`)), timeoutMs);
        const check = () => {
          if (records.length >= count) {
            clearTimeout(timer);
            recordWaiter = undefined;
            resolve();
          }
        };
        recordWaiter = check;
        check();
      }),
    stop: () => stopChild(child),
  };
}

function readJsonLines(stream: NodeJS.ReadableStream, onJson: (line: Record<string, unknown>) => void, onOther?: (raw: string) => void): void {
  createInterface({ input: stream }).on("line", (raw) => {
    try {
      onJson(JSON.parse(raw) as Record<string, unknown>);
    } catch {
      onOther?.(raw);
    }
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
