// uds (--uds PATH): listening on a Unix socket, as behind nginx on the same machine, with a real
// Unix-socket client; stale sockets replaced, live ones and other files left alone, --workers too.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest, type OutgoingHttpHeaders } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { serve } from "loopwise";
import { app } from "../fixtures/deploy-app.ts";
import { captureLogs, fixture, spawnServer } from "../helpers.ts";

// Short: a socket path may be at most 107 bytes.
const dir = mkdtempSync(join(tmpdir(), "lw-uds-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const socketPath = () => join(dir, `s${++n}.sock`);

/** GET over the Unix socket. */
function get(path: string, target: string, headers: OutgoingHttpHeaders = {}): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: path, path: target, headers, agent: false }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on("error", reject).end();
  });
}

/** A socket file with nobody listening on it, as a crashed server leaves behind: a process killed while listening. */
function staleSocket(path: string): void {
  const script = `require("node:net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`;
  spawnSync(process.execPath, ["-e", script]);
}

test("serves on a Unix socket: both lanes answer, the client is unix:, the file is removed on close", async () => {
  const path = socketPath();
  const logs = captureLogs();
  const server = await serve(app, { uds: path, poolSize: 1, logWrite: logs.write });
  try {
    assert.equal(server.url, `unix:${path}`);
    assert.equal(server.port, 0);
    assert.ok(lstatSync(path).isSocket());
    // nginx usually runs as another user: the socket lets anyone the folder lets in connect.
    assert.equal(lstatSync(path).mode & 0o777, 0o666);
    for (const target of ["/whoami", "/whoami-worker"]) {
      const reply = await get(path, target);
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.json, { client: "unix:", scheme: "http", rootPath: "" });
    }
    assert.ok(logs.err.some((line) => line.includes(`Loopwise running on unix socket ${path}`)));
    assert.ok(logs.out.some((line) => line.includes('unix: - "GET /whoami HTTP/1.1" 200')));
  } finally {
    await server.close();
  }
  assert.ok(!existsSync(path), "the socket file is gone after close");
});

test("behind a proxy on the socket, its forwarding headers are believed (the socket's peer is local)", async () => {
  const path = socketPath();
  const server = await serve(app, { uds: path, poolSize: 1, logWrite: captureLogs().write, proxyHeaders: true, rootPath: "/app" });
  try {
    const reply = await get(path, "/whoami", { "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https" });
    assert.deepEqual(reply.json, { client: "203.0.113.9:0", scheme: "https", rootPath: "/app" });
  } finally {
    await server.close();
  }
});

test("a stale socket file left by a crash is replaced", async () => {
  const path = socketPath();
  staleSocket(path);
  assert.ok(lstatSync(path).isSocket(), "the stale socket is there");
  const server = await serve(app, { uds: path, poolSize: 1, logWrite: captureLogs().write });
  try {
    assert.equal((await get(path, "/whoami")).status, 200);
  } finally {
    await server.close();
  }
});

test("a socket another server listens on is refused, and that server keeps it", async () => {
  const path = socketPath();
  const other = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => other.listen(path, resolve));
  try {
    const logs = captureLogs();
    await assert.rejects(
      serve(app, { uds: path, poolSize: 1, logWrite: logs.write }),
      new RegExp(`another server is listening on the Unix socket ${path}`),
    );
    assert.ok(logs.err.some((line) => line.includes("Application startup failed: another server is listening")));
    assert.ok(lstatSync(path).isSocket(), "the other server's socket is untouched");
    // A Loopwise server on it is refused the same way.
    const first = await serve(app, { uds: socketPath(), poolSize: 1, logWrite: captureLogs().write });
    try {
      await assert.rejects(
        serve(app, { uds: first.url.slice("unix:".length), poolSize: 1, logWrite: captureLogs().write }),
        /another server is listening/,
      );
      assert.equal((await get(first.url.slice("unix:".length), "/whoami")).status, 200, "the first still serves");
    } finally {
      await first.close();
    }
  } finally {
    other.close();
  }
});

test("bad paths: a missing folder, a regular file in the way, a path too long, an empty path", async () => {
  const regular = join(dir, "not-a-socket");
  writeFileSync(regular, "precious");
  const cases: [string, RegExp][] = [
    [join(dir, "missing", "app.sock"), /the folder .*missing does not exist/],
    [regular, /a file that is not a socket is there \(not removed\)/],
    [join(dir, `${"x".repeat(120)}.sock`), /is \d+ bytes long; the system allows at most 10\d/],
    ["", /uds must be a path/],
  ];
  for (const [path, message] of cases) {
    await assert.rejects(serve(app, { uds: path, poolSize: 1, logWrite: captureLogs().write }), message, path);
  }
  assert.ok(lstatSync(regular).isFile(), "the regular file was not removed");
  assert.ok(!existsSync(join(dir, "x".repeat(100))), "nothing was created under a cut-off name");
});

test("--workers 2 --uds: the children share the socket, a stale one is replaced first, and it is gone after SIGTERM", async () => {
  const path = socketPath();
  staleSocket(path);
  const server = await spawnServer(`${fixture("pid-app.ts")}:app`, ["--workers", "2", "--pool-size", "1", "--uds", path]);
  try {
    assert.equal(server.url, `unix:${path}`);
    const deadline = Date.now() + 20_000;
    while (server.stderr.filter((line) => line.includes('"event":"listening"')).length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const pids = new Set<number>();
    for (let i = 0; i < 20 && pids.size < 2; i++) pids.add((await get(path, "/pid")).json.pid);
    assert.equal(pids.size, 2, "both processes answered on the one socket");
  } finally {
    assert.equal(await server.stop(), 0);
  }
  assert.ok(!existsSync(path), "the socket file is gone");
});

test("--workers 2 --uds on a socket in use: the parent says so and exits 1 without forking", async () => {
  const path = socketPath();
  const other = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => other.listen(path, resolve));
  try {
    await assert.rejects(spawnServer(`${fixture("pid-app.ts")}:app`, ["--workers", "2", "--pool-size", "1", "--uds", path]), (error: Error) => {
      assert.match(error.message, /exited with 1 before listening/);
      assert.match(error.message, /another server is listening on the Unix socket/);
      assert.doesNotMatch(error.message, /Started server process/);
      return true;
    });
  } finally {
    other.close();
  }
});
