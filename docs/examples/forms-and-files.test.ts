// docs/forms-and-files.md: the forms app under TestClient, forms and files on both lanes.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { TestClient } from "loopwise/testing";
import { app } from "./forms-and-files.ts";

let client: TestClient;
before(async () => {
  client = await TestClient.start(app);
});
after(() => client.close());

test("a form's strings are coerced; JSON is refused where only forms are taken", async () => {
  const res = await client.post("/login", { form: { username: "ada", password: "secret", remember: "on" } });
  assert.deepEqual(res.json(), { username: "ada", remember: true });
  assert.equal((await client.post("/login", { json: { username: "ada", password: "x" } })).status, 415);
});

test("a file arrives as an UploadFile; a missing one is a 422", async () => {
  const res = await client.post("/files", { form: { title: "Notes" }, files: { file: new File(["hi"], "notes.txt") } });
  assert.equal(res.status, 201);
  assert.deepEqual(res.json(), { title: "Notes", filename: "notes.txt", type: "application/octet-stream", size: 2, onDisk: false });
  assert.equal((await client.post("/files", { form: { title: "Notes" }, files: {} })).status, 422);
});

test("several files in one field, each of a type the route lists", async () => {
  const png = (name: string) => new File(["\x89PNG"], name, { type: "image/png" });
  const res = await client.post("/photos", { files: { photos: [png("a.png"), png("b.png")] } });
  assert.deepEqual(res.json(), [
    { name: "a.png", size: 5 },
    { name: "b.png", size: 5 },
  ]);
  const text = await client.post("/photos", { files: { photos: new File(["x"], "a.txt", { type: "text/plain" }) } });
  assert.equal(text.status, 422);
  assert.deepEqual(text.json().detail[0].input, { filename: "a.txt", contentType: "text/plain", size: 1 });
});

test("a plain handler hashes the file on a worker; a large one streams from disk", async () => {
  const content = new Uint8Array(3 * 1024 * 1024).fill(42);
  const sha256 = createHash("sha256").update(content).digest("hex");
  const onWorker = await client.post("/checksum", { files: { file: new File([content], "big.bin") } });
  assert.match(onWorker.lane, /^worker#\d+$/);
  assert.deepEqual(onWorker.json(), { filename: "big.bin", sha256 });
  const streamed = await client.post("/stream", { files: { file: new File([content], "big.bin") } });
  assert.deepEqual(streamed.json(), { size: content.length, sha256 });
});
