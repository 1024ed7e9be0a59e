// Item 7 of the notes service, end to end over a real socket: an attachment uploaded, then read
// back whole, and with `Range: bytes=0-99` as a 206 with those 100 bytes; names that would
// leave the note's folder are refused.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fixture, spawnServer, type ChildServer } from "../helpers.ts";

const content = randomBytes(300_000);
let server: ChildServer;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "notes-attachments-"));
  writeFileSync(join(dir, "secret.txt"), "not an attachment");
  server = await spawnServer(`${fixture("notes-attachments-app.ts")}:app`, ["--pool-size", "1"], { NOTES_DIR: join(dir, "notes") });
  const form = new FormData();
  form.append("file", new Blob([content]), "report 2026.pdf");
  const uploaded = await fetch(`${server.url}/notes/1/attachments`, { method: "POST", body: form });
  assert.equal(uploaded.status, 201);
  assert.equal(((await uploaded.json()) as { filename: string }).filename, "report 2026.pdf");
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("GET an attachment: its bytes, as a download of its name", async () => {
  const res = await fetch(`${server.url}/notes/1/attachments/report%202026.pdf`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/pdf");
  assert.equal(res.headers.get("content-disposition"), 'attachment; filename="report 2026.pdf"');
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(content));
});

test("Range: bytes=0-99 → 206 with those 100 bytes", async () => {
  const res = await fetch(`${server.url}/notes/1/attachments/report%202026.pdf`, { headers: { range: "bytes=0-99" } });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get("content-range"), `bytes 0-99/${content.length}`);
  assert.equal(res.headers.get("content-length"), "100");
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(content.subarray(0, 100)));
});

test("no attachment, another note's, or a name that would leave the folder: 404", async () => {
  assert.equal((await fetch(`${server.url}/notes/1/attachments/nope.pdf`)).status, 404);
  assert.equal((await fetch(`${server.url}/notes/2/attachments/report%202026.pdf`)).status, 404);
  for (const name of ["..%2F..%2Fsecret.txt", "..%2F..%2F..%2Fsecret.txt", "%2E%2E", "..%5C..%5Csecret.txt", ".secret", "a%00b"]) {
    const res = await fetch(`${server.url}/notes/1/attachments/${name}`);
    assert.equal(res.status, 404, name);
    assert.doesNotMatch(await res.text(), /not an attachment/);
  }
});
