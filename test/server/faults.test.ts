// Faults of the machine around the server, injected for real: a disk that fills while an upload
// is spooled (a file-size limit, as a full disk answers), no file descriptor left (ulimit -n), and
// SIGTERM while every kind of work is in flight.
// The invariants: the process lives, each request gets one answer, nothing is left behind, and
// the server serves again once the fault is gone.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { delay, fixture, request, spawnServer, until, type ChildServer } from "../helpers.ts";
import { openSocket } from "./websocket-client.ts";

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
    server = await spawnServer(`${fixture("uploads-app.ts")}:app`, ["--pool-size", "1"], { TMPDIR: temp }, { limits: ["-f", "256"] });
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
    server = await spawnServer(`${fixture("lanes-app.ts")}:app`, ["--pool-size", "1"], {}, { limits: ["-n", "128"] });
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

describe("SIGTERM under mixed load", () => {
  test("every accepted request on both lanes, an upload still being sent, an event stream and a WebSocket get one answer each; exit 0", async () => {
    const server = await spawnServer(`${fixture("mixed-load-app.ts")}:app`, ["--pool-size", "2", "--grace-period", "10000"]);
    const loop = request(`${server.url}/loop/sleep/1500`);
    const worker = request(`${server.url}/worker/sleep/1500`);
    const events = readEvents(`${server.url}/events`);
    const socket = await openSocket(`${server.url.replace("http:", "ws:")}/ws/echo`);
    socket.ws.send("before");
    assert.equal(await socket.next(), "before");
    // An upload whose body is half sent when the signal comes.
    const content = Buffer.alloc(300_000, 7);
    const head = `--B\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
    const body = Buffer.concat([Buffer.from(head), content, Buffer.from("\r\n--B--\r\n")]);
    const uploading = startUpload(`${server.url}/upload`, body);
    uploading.write(body.subarray(0, 100_000));
    await delay(300);

    const signalled = Date.now();
    const exit = server.stop("SIGTERM");
    // A connection made before the signal is handled is still served; soon new ones are refused.
    await until(
      () =>
        request(`${server.url}/loop/sleep/0`).then(
          () => false,
          () => true,
        ),
      "new connections to be refused",
    );
    uploading.write(body.subarray(100_000));
    uploading.end();

    const [loopReply, workerReply, uploadReply, stream, closed] = await Promise.all([loop, worker, uploading.reply, events, socket.closed]);
    assert.deepEqual([loopReply.status, loopReply.json], [200, { slept: 1500 }]);
    assert.deepEqual([workerReply.status, workerReply.json], [200, { slept: 1500 }]);
    assert.equal(uploadReply.status, 200);
    assert.deepEqual(uploadReply.json, { size: content.length, sha256: createHash("sha256").update(content).digest("hex") });
    assert.equal(stream.ended, "cleanly", "the event stream ends with its final chunk, for the browser to reconnect elsewhere");
    assert.ok(stream.events > 0);
    assert.equal(closed.code, 1001, "the WebSocket is told the server is going away");
    assert.equal(await exit, 0);
    assert.ok(Date.now() - signalled < 10_000, "within the grace period");
    // One access line per accepted request, no more.
    const lines = (path: string) => server.access.filter((line) => line.path === path).length;
    assert.deepEqual(["/loop/sleep/1500", "/worker/sleep/1500", "/upload", "/events"].map(lines), [1, 1, 1, 1]);
  });
});

/** Reads an event stream to its end: "cleanly" (the final chunk came) or "dropped". */
function readEvents(url: string): Promise<{ events: number; ended: "cleanly" | "dropped" }> {
  return new Promise((resolve) => {
    let events = 0;
    const req = httpRequest(url, { agent: false }, (res) => {
      res.on("data", (chunk: Buffer) => (events += chunk.toString().split("\n\n").length - 1));
      res.on("end", () => resolve({ events, ended: "cleanly" }));
      res.on("error", () => resolve({ events, ended: "dropped" }));
    });
    req.on("error", () => resolve({ events, ended: "dropped" }));
    req.end();
  });
}

/** A multipart POST whose body the test writes when it likes. */
function startUpload(url: string, body: Buffer) {
  let settle: (reply: { status: number; json: unknown }) => void = () => {};
  const reply = new Promise<{ status: number; json: unknown }>((resolve) => (settle = resolve));
  const req = httpRequest(
    url,
    { method: "POST", agent: false, headers: { "content-type": "multipart/form-data; boundary=B", "content-length": body.length } },
    (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk));
      res.on("end", () => settle({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    },
  );
  req.on("error", (error) => settle({ status: 0, json: error.message }));
  return { write: (bytes: Buffer) => req.write(bytes), end: () => req.end(), reply };
}
