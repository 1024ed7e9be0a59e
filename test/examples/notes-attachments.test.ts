// Item 7 of the notes service, its file half, over real sockets: an attachment's bytes, and with
// `Range: bytes=0-99` a 206 with those 100 bytes.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { serve, type RunningServer } from "loopwise";

const dir = mkdtempSync(join(tmpdir(), "notes-attachments-"));
process.env.NOTES_ATTACHMENTS_DIR = dir;
const { app } = await import("../fixtures/notes-attachments-app.ts");

const report = randomBytes(300_000);
let server: RunningServer;
before(async () => {
  mkdirSync(join(dir, "1"));
  writeFileSync(join(dir, "1", "report.pdf"), report);
  writeFileSync(join(dir, "secret.txt"), "not an attachment");
  server = await serve(app, { port: 0, poolSize: 1, logWrite: () => {}, loopMonitor: false });
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test("GET an attachment: its bytes, as a download of its name", async () => {
  const res = await fetch(`${server.url}/notes/1/attachments/report.pdf`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/pdf");
  assert.equal(res.headers.get("content-disposition"), 'attachment; filename="report.pdf"');
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(report));
});

test("Range: bytes=0-99 → 206 with those 100 bytes", async () => {
  const res = await fetch(`${server.url}/notes/1/attachments/report.pdf`, { headers: { range: "bytes=0-99" } });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get("content-range"), `bytes 0-99/${report.length}`);
  assert.equal(res.headers.get("content-length"), "100");
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(report.subarray(0, 100)));
});

test("no attachment, another note's, or a name that would leave the directory: 404; a bad id: 422", async () => {
  assert.equal((await fetch(`${server.url}/notes/1/attachments/nope.pdf`)).status, 404);
  assert.equal((await fetch(`${server.url}/notes/2/attachments/report.pdf`)).status, 404);
  for (const name of ["..%2Fsecret.txt", "..%2F1%2Freport.pdf", "%2E%2E", "..%5Csecret.txt", ".secret"]) {
    const res = await fetch(`${server.url}/notes/1/attachments/${name}`);
    assert.equal(res.status, 404, name);
  }
  assert.equal((await fetch(`${server.url}/notes/abc/attachments/report.pdf`)).status, 422);
});
