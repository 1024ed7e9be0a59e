// examples/notes served by `loopwise run`, over real sockets, real WebSocket and multipart
// clients: the nine acceptance items of the HTTP layer and the real-app features.
import assert from "node:assert/strict";
import { createHash, randomFillSync } from "node:crypto";
import { request as httpRequest } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { delay, request, spawnServer, type ChildServer } from "../helpers.ts";
import { openSocket } from "../server/websocket-client.ts";

const notesApp = fileURLToPath(new URL("../../examples/notes/main.ts", import.meta.url));

describe("examples/notes", () => {
  let server: ChildServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "loopwise-notes-e2e-"));
    server = await spawnServer(`${notesApp}:app`, ["--pool-size", "1"], { NOTES_DIR: dir });
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
    rmSync(dir, { recursive: true, force: true });
  });

  const create = (note: unknown, headers: Record<string, string> = {}) =>
    request(`${server.url}/notes`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(note) });

  test("1. GET /health → 200", async () => {
    assert.equal((await request(`${server.url}/health`)).status, 200);
  });

  test("3. POST /notes needs the bearer token: 401 without it, 201 with it", async () => {
    const anonymous = await create({ title: "t", body: "b" });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers["www-authenticate"], "Bearer");
    const wrong = await create({ title: "t", body: "b" }, { authorization: "Bearer wrong-token" });
    assert.equal(wrong.status, 401);
    const created = await create({ title: "Groceries", body: "milk" }, { authorization: "Bearer secret-token" });
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.json).sort(), ["body", "id", "title"]);
    assert.deepEqual({ title: created.json.title, body: created.json.body }, { title: "Groceries", body: "milk" });
    const invalid = await create({ title: 1 }, { authorization: "Bearer secret-token" });
    assert.equal(invalid.status, 422);
    const listed = await request(`${server.url}/notes`);
    assert.ok(listed.json.some((n: { id: number }) => n.id === created.json.id));
  });

  test("3. /openapi.json declares an HTTP bearer security scheme for POST /notes", async () => {
    const doc = (await request(`${server.url}/openapi.json`)).json;
    assert.deepEqual(doc.components.securitySchemes.HTTPBearer, { type: "http", scheme: "bearer" });
    assert.deepEqual(doc.paths["/notes"].post.security, [{ HTTPBearer: [] }]);
    assert.equal(doc.paths["/notes"].get.security, undefined);
  });

  test("4. after each created note, the audit list has its id within a second", async () => {
    for (const title of ["one", "two", "three"]) {
      const created = await create({ title, body: "." }, { authorization: "Bearer secret-token" });
      assert.equal(created.status, 201);
      const deadline = Date.now() + 1000;
      let audit: { noteId: number }[] = [];
      while (Date.now() < deadline) {
        audit = (await request(`${server.url}/audit`)).json;
        if (audit.some((entry) => entry.noteId === created.json.id)) break;
        await delay(25);
      }
      assert.ok(
        audit.some((entry) => entry.noteId === created.json.id),
        `note ${created.json.id} is not in the audit list a second later: ${JSON.stringify(audit)}`,
      );
    }
  });

  test("2. CORS from http://localhost:5173 only: the preflight is answered, other origins get no allow-origin", async () => {
    const preflight = (origin: string) =>
      request(`${server.url}/notes`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
      });
    const allowed = await preflight("http://localhost:5173");
    assert.ok(allowed.status === 200 || allowed.status === 204, `preflight status ${allowed.status}`);
    assert.equal(allowed.headers["access-control-allow-origin"], "http://localhost:5173");
    const other = await preflight("http://localhost:3000");
    assert.equal(other.headers["access-control-allow-origin"], undefined);
    const simple = await request(`${server.url}/notes`, { headers: { origin: "http://localhost:3000" } });
    assert.equal(simple.headers["access-control-allow-origin"], undefined);
  });

  test("5. GET /notes is the JSON list; over 1 KB with Accept-Encoding: gzip it comes gzipped", async () => {
    for (let i = 0; i < 20; i++) {
      const created = await create({ title: `note ${i}`, body: "x".repeat(100) }, { authorization: "Bearer secret-token" });
      assert.equal(created.status, 201);
    }
    const plain = await request(`${server.url}/notes`);
    assert.ok(Array.isArray(plain.json) && plain.text.length > 1024);
    const compressed = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      const req = httpRequest(`${server.url}/notes`, { headers: { "accept-encoding": "gzip" }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(compressed.headers["content-encoding"], "gzip");
    assert.deepEqual(JSON.parse(gunzipSync(compressed.body).toString()), plain.json);
  });

  test("6. GET /notes/events?n=3: three events 300 ms apart, the first at once", async () => {
    const started = Date.now();
    const arrivals: { at: number; text: string }[] = [];
    const type = await new Promise<string | undefined>((resolve, reject) => {
      const req = httpRequest(`${server.url}/notes/events?n=3`, { agent: false }, (res) => {
        res.on("data", (c: Buffer) => arrivals.push({ at: Date.now(), text: c.toString() }));
        res.on("end", () => resolve(res.headers["content-type"]));
      });
      req.on("error", reject);
      req.end();
    });
    assert.match(type ?? "", /^text\/event-stream/);
    const events = arrivals
      .map((a) => a.text)
      .join("")
      .split("\n\n")
      .filter((e) => e.includes("data:"));
    assert.equal(events.length, 3);
    const firstAt = arrivals.find((a) => a.text.includes("data:"))!.at;
    const lastAt = arrivals.at(-1)!.at;
    assert.ok(lastAt - firstAt >= 500, `the three events spread over ${lastAt - firstAt} ms`);
    assert.ok(firstAt - started < lastAt - firstAt, "the first event comes at once, before the others");
  });

  test("7. a 20 MB multipart upload: 201 with its name, size and SHA-256; read back whole and by range", async () => {
    const note = await create({ title: "with a file", body: "." }, { authorization: "Bearer secret-token" });
    const content = randomFillSync(Buffer.alloc(20 * 1000 * 1000));
    const form = new FormData();
    form.append("file", new Blob([content]), "scan.bin");
    const uploaded = await fetch(`${server.url}/notes/${note.json.id}/attachments`, { method: "POST", body: form });
    assert.equal(uploaded.status, 201);
    assert.deepEqual(await uploaded.json(), {
      filename: "scan.bin",
      size: content.length,
      sha256: createHash("sha256").update(content).digest("hex"),
    });
    const whole = await fetch(`${server.url}/notes/${note.json.id}/attachments/scan.bin`);
    assert.equal(whole.status, 200);
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(content));
    const part = await fetch(`${server.url}/notes/${note.json.id}/attachments/scan.bin`, { headers: { range: "bytes=0-99" } });
    assert.equal(part.status, 206);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(content.subarray(0, 100)));
  });

  test('8. WebSocket /ws/echo answers each text message m with {"echo": m}', async () => {
    const ws = await openSocket(`${server.url.replace("http:", "ws:")}/ws/echo`);
    for (const m of ["hello", "多言語 ✓"]) {
      ws.ws.send(m);
      assert.deepEqual(JSON.parse((await ws.next()) as string), { echo: m });
    }
    ws.ws.close(1000);
    assert.equal((await ws.closed).code, 1000);
  });

  test("9. X-Request-ID: abc comes back as it was sent; a request without one gets a new one", async () => {
    const given = await request(`${server.url}/health`, { headers: { "x-request-id": "abc" } });
    assert.equal(given.headers["x-request-id"], "abc");
    const made = await request(`${server.url}/health`);
    assert.match(String(made.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
  });
});
