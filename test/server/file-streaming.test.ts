// Files on the wire under stress: a huge file to a client that stops reading (memory stays
// bounded), clients that leave mid-file (the descriptor is closed), a file cut short while it
// is sent (the connection drops, the error is logged), 200 downloads at once.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readlinkSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { file, serve, type HttpRequest, type OutgoingResponse, type RunningServer } from "loopwise";
import { compression } from "loopwise/middleware";
import { existsSync } from "node:fs";
import { app, bigSize, data, publicDir, root, uploadsSeen } from "../fixtures/files-app.ts";
import { captureLogs, delay, request, until } from "../helpers.ts";

const linux = process.platform === "linux";

/** How many of this process's descriptors are open on `path` (read from /proc/self/fd). */
function descriptorsOn(path: string): number {
  let count = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) count++;
    } catch {
      // Closed between the listing and the look.
    }
  }
  return count;
}

/** Starts a download and stops reading at its first chunk; `resume()` reads the rest. */
function pausedDownload(url: string) {
  return new Promise<{ received: () => number; resume: () => Promise<{ bytes: number; error?: Error }>; leave: () => void }>((resolve, reject) => {
    let received = 0;
    const req = httpRequest(url, { agent: false }, (res) => {
      let finish: (outcome: { bytes: number; error?: Error }) => void = () => {};
      const ended = new Promise<{ bytes: number; error?: Error }>((r) => (finish = r));
      res.on("data", (chunk: Buffer) => {
        received += chunk.length;
      });
      res.on("end", () => finish({ bytes: received }));
      res.on("error", (error) => finish({ bytes: received, error }));
      res.on("aborted", () => finish({ bytes: received, error: new Error("aborted") }));
      res.once("data", () => {
        res.pause();
        resolve({
          received: () => received,
          resume: () => {
            res.resume();
            return ended;
          },
          leave: () => req.destroy(),
        });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("files under stress", { skip: !linux && "reads /proc/self/fd" }, () => {
  let server: RunningServer;
  const logs = captureLogs();
  const big = join(root, "big.bin");
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 1, logWrite: logs.write, loopMonitor: false });
  });
  after(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  test("a client that stops reading a 256 MiB file holds the server to a bounded buffer; resumed, it gets it all", async () => {
    global.gc?.();
    const before = process.memoryUsage();
    const download = await pausedDownload(`${server.url}/file/big`);
    await delay(1000);
    const paused = process.memoryUsage();
    const grew = (paused.rss - before.rss + (paused.arrayBuffers - before.arrayBuffers)) / 2 ** 20;
    assert.ok(grew < 64, `memory grew by ${grew.toFixed(1)} MiB while the client read nothing of 256 MiB`);
    assert.equal(descriptorsOn(big), 1, "the file is open while it is sent");
    const started = Date.now();
    const outcome = await download.resume();
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.bytes, bigSize);
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds < 60, `256 MiB took ${seconds} s`);
    await until(() => descriptorsOn(big) === 0);
  });

  test("a client that leaves mid-file: the descriptor is closed, the access log says 499", async () => {
    const download = await pausedDownload(`${server.url}/file/big`);
    await until(() => descriptorsOn(big) === 1);
    download.leave();
    await until(() => descriptorsOn(big) === 0);
    await until(() => logs.out.some((l) => l.includes('"GET /file/big HTTP/1.1" 499')));
  });

  test("the same from a plain handler's file, and for HEAD, 304 and 416: no descriptor left open", async () => {
    const dataPath = join(publicDir, "data.bin");
    const download = await pausedDownload(`${server.url}/file/worker/data`);
    download.leave();
    const head = await request(`${server.url}/file/big`, { method: "HEAD" });
    assert.equal(head.headers["content-length"], String(bigSize));
    const { etag } = (await request(`${server.url}/file/data`, { method: "HEAD" })).headers;
    assert.equal((await request(`${server.url}/file/data`, { headers: { "if-none-match": String(etag) } })).status, 304);
    assert.equal((await request(`${server.url}/file/data`, { headers: { range: "bytes=-0" } })).status, 416);
    await until(() => descriptorsOn(dataPath) === 0 && descriptorsOn(big) === 0);
  });

  test("a file cut short while it is sent: the connection drops (never a short body that looks whole), the error is logged", async () => {
    const shrinking = join(root, "shrinking.bin");
    writeFileSync(shrinking, "");
    truncateSync(shrinking, 64 * 2 ** 20);
    const download = await pausedDownload(`${server.url}/file/named/shrinking.bin`);
    truncateSync(shrinking, 0);
    const outcome = await download.resume();
    assert.ok(outcome.error, `the client must see the body is incomplete (got ${outcome.bytes} bytes and a clean end)`);
    assert.ok(outcome.bytes < 64 * 2 ** 20);
    await until(() => logs.err.some((l) => l.includes("shrinking.bin became shorter while it was sent")));
    await until(() => descriptorsOn(shrinking) === 0);
    assert.equal((await request(`${server.url}/file/hello`)).status, 200, "the server carries on");
  });

  test("a file removed before the answer is sent is a 404; one removed while it is sent is still sent whole", async () => {
    const doomed = join(root, "doomed.bin");
    writeFileSync(doomed, data);
    const download = await pausedDownload(`${server.url}/file/named/doomed.bin`);
    rmSync(doomed);
    const outcome = await download.resume();
    assert.equal(outcome.bytes, data.length, "an open file outlives its name");
    assert.equal((await request(`${server.url}/file/named/doomed.bin`)).status, 404);
  });

  test("a compressed file closed before its first chunk (its client left at once) closes the file", async () => {
    const style = join(publicDir, "style.css");
    const req = { method: "GET", headers: { "accept-encoding": "gzip" } } as unknown as HttpRequest;
    const response = (await compression()(req, async () => file(style))) as OutgoingResponse;
    assert.equal(response.headers["content-encoding"], "gzip");
    assert.equal(descriptorsOn(style), 1);
    await (response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]().return?.();
    await until(() => descriptorsOn(style) === 0);
  });

  test("an upload sent back as a file: read whole or in part, its temporary file removed once it is sent", async () => {
    const post = (range?: string) => {
      const form = new FormData();
      form.append("file", new Blob([data]), "data.bin");
      return fetch(`${server.url}/file/echo-upload`, { method: "POST", body: form, headers: range ? { range } : {} });
    };
    const whole = await post();
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get("content-disposition"), 'attachment; filename="data.bin"');
    assert.equal(whole.headers.get("content-length"), String(data.length), "sent as a file, not as a stream of unknown length");
    assert.match(whole.headers.get("etag") ?? "", /^"/);
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(data));
    await until(() => !existsSync(uploadsSeen.at(-1)!));
    // Ranges and conditions are for GET and HEAD: a POST's file goes out whole.
    const again = await post("bytes=0-9");
    assert.equal(again.status, 200);
    assert.equal((await again.arrayBuffer()).byteLength, data.length);
    await until(() => !existsSync(uploadsSeen.at(-1)!));
  });

  test("200 downloads at once: every one whole and right, no descriptor left", async () => {
    const expected = createHash("sha256").update(data).digest("hex");
    const one = () =>
      new Promise<string>((resolve, reject) => {
        const req = httpRequest(`${server.url}/static/data.bin`, { agent: false }, (res) => {
          const hash = createHash("sha256");
          res.on("data", (chunk: Buffer) => hash.update(chunk));
          res.on("end", () => resolve(res.statusCode === 200 ? hash.digest("hex") : `status ${res.statusCode}`));
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end();
      });
    const started = Date.now();
    const hashes = await Promise.all(Array.from({ length: 200 }, one));
    const seconds = (Date.now() - started) / 1000;
    assert.deepEqual(new Set(hashes), new Set([expected]));
    assert.ok(seconds < 120, `200 × 1 MiB took ${seconds} s`);
    await until(() => descriptorsOn(join(publicDir, "data.bin")) === 0);
  });
});
