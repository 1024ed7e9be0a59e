// Item 7 of the notes service over a real socket, with a real 20 MiB multipart upload: 201 with
// the file's name, size and SHA-256, the file kept; past 20 MiB a 413. And the server's memory:
// the upload streams to disk, so the process grows by a few MB, not by the file (measured as the
// peak RSS of the server process, from /proc, against a route that reads the upload whole).
import assert from "node:assert/strict";
import { createHash, randomFillSync } from "node:crypto";
import { mkdtempSync, openAsBlob, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { maxAttachmentSize } from "../../examples/notes/attachments.ts";
import { delay, fixture, spawnServer, type ChildServer } from "../helpers.ts";

const MB = 1024 * 1024;

describe("examples/notes: attachments", () => {
  let server: ChildServer;
  let dir: string;
  let upload: string;
  let content: Buffer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "loopwise-notes-test-"));
    content = randomFillSync(Buffer.alloc(maxAttachmentSize));
    upload = join(dir, "upload.bin");
    writeFileSync(upload, content);
    server = await spawnServer(`${fixture("notes-attachments-app.ts")}:app`, ["--pool-size", "1"], { NOTES_DIR: join(dir, "notes") });
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Posts `file` (a path, sent from disk) as the form's `file` field. */
  async function send(path: string, file: string, name = "report.bin", size?: number) {
    const form = new FormData();
    const blob = await openAsBlob(file);
    form.append("file", size === undefined ? blob : blob.slice(0, size), name);
    const response = await fetch(server.url + path, { method: "POST", body: form });
    return { status: response.status, json: (await response.json()) as any };
  }

  /** The server process's resident memory now and at its peak since the last reset, in KiB (Linux). */
  const memory = (name: "VmRSS" | "VmHWM") =>
    Number(new RegExp(`${name}:\\s+(\\d+)`).exec(readFileSync(`/proc/${server.child.pid}/status`, "utf8"))![1]);
  const resetPeak = () => writeFileSync(`/proc/${server.child.pid}/clear_refs`, "5");

  /** How much the server's peak RSS rose above where it was while `work` ran, in MB. */
  async function peakGrowth(work: () => Promise<unknown>): Promise<number> {
    await delay(200);
    resetPeak();
    const before = memory("VmRSS");
    await work();
    return (memory("VmHWM") - before) / 1024;
  }

  test("uploading 20 MiB grows the server by less than 10 MB; reading it whole grows it by more than 20", {
    skip: process.platform !== "linux",
  }, async (t) => {
    // First of all, after one small upload (so the code paths, a spooled file among them, have run
    // once): what is measured is the first large upload's own cost, then two more.
    await send("/notes/1/attachments", upload, "warm-up.bin", 2 * MB);
    const spooled: number[] = [];
    for (let i = 0; i < 3; i++) spooled.push(await peakGrowth(() => send("/notes/2/attachments", upload, `copy-${i}.bin`)));
    const buffered = await peakGrowth(() => send("/buffered", upload));
    t.diagnostic(`peak RSS growth, 20 MiB upload: spooled ${spooled.map((g) => g.toFixed(1)).join(", ")} MB; read whole ${buffered.toFixed(1)} MB`);
    for (const growth of spooled) assert.ok(growth < 10, `the server grew by ${growth.toFixed(1)} MB for a spooled 20 MiB upload`);
    assert.ok(buffered > 20, `the control grew by only ${buffered.toFixed(1)} MB: the measure cannot tell buffering apart`);
  });

  test("a 20 MiB file: 201 with its name, size and SHA-256, kept under the note's folder", async () => {
    const reply = await send("/notes/7/attachments", upload, "../../quarterly report.bin");
    assert.equal(reply.status, 201, JSON.stringify(reply.json));
    assert.deepEqual(reply.json, {
      filename: "quarterly report.bin",
      size: content.length,
      sha256: createHash("sha256").update(content).digest("hex"),
    });
    assert.ok(readFileSync(join(dir, "notes", "7", "quarterly report.bin")).equals(content));
  });

  test("one byte more is a 413; a note that does not exist a 404", async () => {
    writeFileSync(join(dir, "over.bin"), Buffer.alloc(maxAttachmentSize + 1));
    const over = await send("/notes/7/attachments", join(dir, "over.bin"));
    assert.equal(over.status, 413);
    assert.equal(over.json.detail, `The file in field "file" is larger than this route takes (${maxAttachmentSize} bytes)`);
    assert.equal((await send("/notes/5000/attachments", upload, "a.bin", 10)).status, 404);
  });
});
