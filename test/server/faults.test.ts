// Faults of the machine around the server, injected for real: a disk that fills while an upload
// is spooled (a file-size limit, as a full disk answers), and no file descriptor left (ulimit -n).
// The invariants: the process lives, each request gets one answer, nothing is left behind, and
// the server serves again once the fault is gone.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { delay, fixture, request, spawnServer, until, type ChildServer } from "../helpers.ts";

/** The upload files left in `temp` (the compiled app's cache lives there too). */
const uploadsLeft = (temp: string): string[] =>
  readdirSync(temp)
    .filter((name) => name.startsWith("loopwise-uploads-"))
    .flatMap((name) => readdirSync(join(temp, name)));

const upload = (url: string, bytes: number) => {
  const form = new FormData();
  form.append("file", new Blob([Buffer.alloc(bytes, 97)]), "report.bin");
  return fetch(url, { method: "POST", body: form }).then(async (res) => ({ status: res.status, json: (await res.json()) as any }));
};

describe("a disk that fills while an upload is spooled", () => {
  let server: ChildServer;
  let temp: string;
  before(async () => {
    temp = mkdtempSync(join(tmpdir(), "loopwise-full-disk-"));
    // 256 KiB per file: a bigger upload meets EFBIG, as a full disk meets ENOSPC.
    server = await spawnServer(`${fixture("uploads-app.ts")}:app`, ["--pool-size", "1"], { TMPDIR: temp }, ["-f", "256"]);
  });
  after(async () => {
    await server?.stop();
    rmSync(temp, { recursive: true, force: true });
  });

  test("507 (not a 400: the body was fine), logged with its cause, nothing left on disk; the next upload is stored", async () => {
    const full = await upload(`${server.url}/disk`, 1024 * 1024);
    assert.equal(full.status, 507);
    assert.deepEqual(full.json, { detail: "Insufficient Storage: the server has no room for this upload" });
    await until(() => server.stderr.some((line) => line.includes("UploadStorageError: an upload could not be stored: EFBIG")), "the log line");
    assert.deepEqual(uploadsLeft(temp), [], "the partly written file is removed");
    const small = await upload(`${server.url}/disk`, 10_000);
    assert.equal(small.status, 200);
    assert.equal(small.json.file.size, 10_000);
    // Removed once its response is out.
    await until(() => uploadsLeft(temp).length === 0, "the stored upload to be removed");
    assert.equal(server.child.exitCode, null, "the process lives");
  });
});

describe("no file descriptor left", () => {
  let server: ChildServer;
  before(async () => {
    server = await spawnServer(`${fixture("lanes-app.ts")}:app`, ["--pool-size", "1"], {}, ["-n", "128"]);
  });
  after(() => server?.stop());

  test("connections past the limit are closed at once; the process lives and serves both lanes once descriptors are free", async () => {
    const port = Number(new URL(server.url).port);
    const sockets: Socket[] = [];
    let closed = 0;
    for (let i = 0; i < 300; i++) {
      const socket = connect(port, "127.0.0.1");
      socket.on("error", () => {});
      socket.on("close", () => closed++);
      sockets.push(socket);
    }
    for (let i = 0; i < 100 && closed < 100; i++) await delay(50);
    assert.ok(closed >= 100, `${closed} of 300 connections were closed by the server`);
    assert.equal(server.child.exitCode, null, "the process lives");
    for (const socket of sockets) socket.destroy();
    await delay(300);
    assert.equal((await request(`${server.url}/loop/where`)).status, 200);
    assert.equal((await request(`${server.url}/worker/where`)).status, 200);
  });
});
