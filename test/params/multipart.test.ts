// Multipart forms over real sockets, on both lanes: what a handler gets, what a declared form
// coerces and refuses, the limits, and the temporary files, which must be gone after every answer
// — a success, a handler that throws, a refusal, a malformed body, a client that leaves halfway.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app } from "../fixtures/uploads-app.ts";
import { captureLogs, delay, rawExchange, statusOf } from "../helpers.ts";

/** Over a socket kept open for writing, as a client still sending its body. */
const raw = (port: number, payload: string | Buffer, options: { end?: boolean; waitMs?: number } = {}) =>
  rawExchange(port, payload, { end: false, ...options });

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

/** The files waiting in this process's upload directory (the server runs in this process). */
function tempFiles(): string[] {
  const dirs = readdirSync(tmpdir()).filter((name) => name.startsWith(`loopwise-uploads-${process.pid}-`));
  return dirs.flatMap((dir) => readdirSync(join(tmpdir(), dir)).map((file) => join(tmpdir(), dir, file)));
}

/** Waits (up to 10 s, a generous bound for a loaded machine) for the temporary files to be removed: removal runs just after the answer. */
async function noTempFiles(): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (tempFiles().length > 0 && Date.now() < deadline) await delay(20);
  assert.deepEqual(tempFiles(), [], "temporary upload files were left behind");
}

async function post(url: string, body: FormData | URLSearchParams | string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: "POST", body, headers });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

const bodyOf = (response: string) => JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4));

/** A multipart request by hand, for the bodies no browser would send. */
function multipartRequest(path: string, body: string | Buffer, { boundary = "XyZ", headers = "" } = {}): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, "latin1");
  const head =
    `POST ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
    `Content-Length: ${bytes.length}\r\n${headers}\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), bytes]);
}

const part = (disposition: string, content: string, type?: string) =>
  `--XyZ\r\nContent-Disposition: form-data; ${disposition}\r\n${type ? `Content-Type: ${type}\r\n` : ""}\r\n${content}\r\n`;

describe("multipart forms", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, logWrite: logs.write });
  });
  after(() => server.close());

  test("fields and files reach a handler on either lane; small files stay in memory, large ones on disk", async () => {
    const big = new Uint8Array(2_000_000).fill(7);
    const form = () => {
      const f = new FormData();
      f.append("title", "hello");
      f.append("tag", "a");
      f.append("tag", "b");
      f.append("note", new Blob(["small note"], { type: "text/plain" }), "note.txt");
      f.append("big", new Blob([big]), "big.bin");
      return f;
    };
    for (const path of ["/echo", "/sync/echo"]) {
      const reply = await post(server.url + path, form());
      assert.equal(reply.status, 200, reply.text);
      const { thread, body } = reply.json;
      assert.equal(thread === 0, path === "/echo", "the lane rule holds for forms");
      assert.equal(body.title, "hello");
      assert.deepEqual(body.tag, ["a", "b"]);
      assert.deepEqual(
        { ...body.note, path: undefined },
        { upload: true, isFile: true, name: "note.txt", type: "text/plain", size: 10, onDisk: false, path: undefined, sha256: sha256("small note") },
      );
      assert.equal(body.big.size, big.length);
      assert.equal(body.big.onDisk, true, "a file over the spool threshold is on disk while the handler runs");
      assert.equal(body.big.sha256, sha256(big));
      await noTempFiles();
      assert.equal(existsSync(body.big.path), false, "and removed after the answer");
    }
  });

  test("a declared form is coerced like a query string and validated, files included", async () => {
    for (const path of ["/profile", "/sync/profile"]) {
      const form = new FormData();
      form.append("title", "Ada");
      form.append("age", "36");
      form.append("subscribed", "on");
      form.append("tags", "x");
      form.append("avatar", new Blob(["<svg/>"], { type: "image/svg+xml" }), "me.svg");
      form.append("attachments", new Blob(["one"]), "1.txt");
      const reply = await post(server.url + path, form);
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.json.age, 36);
      assert.equal(reply.json.subscribed, true);
      assert.deepEqual(reply.json.tags, ["x"], "a single value for a list field is a list");
      assert.equal(reply.json.avatar.name, "me.svg");
      assert.equal(reply.json.attachments.length, 1, "a single file for a list of files is a list");
      if (path === "/profile") assert.equal(reply.json.text, "<svg/>");
    }
    const bad = new FormData();
    bad.append("age", "old");
    bad.append("avatar", new Blob([new Uint8Array(70_000)]), "huge.png");
    const refused = await post(server.url + "/profile", bad);
    assert.equal(refused.status, 422);
    assert.deepEqual(
      refused.json.detail.map((d: any) => [d.loc.join("."), d.type]),
      [
        ["body.title", "missing"],
        ["body.age", "invalid_type"],
        ["body.avatar", "too_big"],
      ],
    );
    await noTempFiles();
  });

  test("urlencoded forms are coerced too; a file field sent as text is refused, not crashed on", async () => {
    const login = await post(server.url + "/login", new URLSearchParams({ username: "ada", password: "pw", remember: "yes" }));
    assert.deepEqual(login.json, { username: "ada", password: "pw", remember: true });
    const multipartLogin = new FormData();
    multipartLogin.append("username", "ada");
    assert.equal((await post(server.url + "/login", multipartLogin)).status, 415, "the route accepts urlencoded only");
    // A part with no filename is a text field: declared as a file, it is a 422.
    const response = await raw(
      server.port,
      multipartRequest("/disk/refused", part('name="file"', "not a file") + part('name="n"', "1") + "--XyZ--\r\n"),
    );
    assert.equal(statusOf(response), 422);
    assert.deepEqual(bodyOf(response).detail[0].loc, ["body", "file"]);
  });

  test("filenames are the client's words only: paths are cut off, and nothing of them reaches the disk", async () => {
    const body =
      part('name="a"; filename="../../etc/passwd"', "one") +
      part('name="b"; filename="..\\\\..\\\\windows\\\\win.ini"', "two") +
      part('name="c"; filename=".."', "three") +
      // Control characters (a NUL, a tab, an escape) never reach the name.
      part('name="d"; filename="re\x00port.txt"', "four") +
      part('name="e"; filename="tab\tand\x1bescape\x7f.txt"', "five") +
      "--XyZ--\r\n";
    const response = await raw(server.port, multipartRequest("/disk", body));
    assert.equal(statusOf(response), 200, response);
    const files = bodyOf(response);
    assert.deepEqual(
      [files.a.name, files.b.name, files.c.name, files.d.name, files.e.name],
      ["passwd", "win.ini", "", "report.txt", "tabandescape.txt"],
    );
    for (const file of [files.a, files.b, files.c, files.d, files.e]) assert.match(file.path, /loopwise-uploads-\d+-\w+\/upload-\d+$/);
    await noTempFiles();
  });

  test("odd parts: __proto__ as a field name, parts with no name or not form-data, a preamble, a chunked body", async () => {
    const odd =
      `${"preamble ".repeat(1000)}\r\n` +
      part('name="__proto__"', '{"polluted":true}') +
      part('name="constructor"', "x") +
      part('filename="nameless.txt"', "a file with no field name") +
      `--XyZ\r\nContent-Disposition: attachment; name="y"\r\n\r\nnot form-data\r\n` +
      part('name="ok"', "1") +
      "--XyZ--\r\nan epilogue";
    const response = await raw(server.port, multipartRequest("/echo", odd));
    assert.equal(statusOf(response), 200, response);
    assert.deepEqual(bodyOf(response).body, JSON.parse('{"__proto__":"{\\"polluted\\":true}","constructor":"x","ok":"1"}'));
    assert.equal(({} as { polluted?: unknown }).polluted, undefined);
    const content = part('name="f"; filename="c.txt"', "sent in chunks") + "--XyZ--\r\n";
    const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    const chunked = await raw(
      server.port,
      "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nTransfer-Encoding: chunked\r\n\r\n" +
        `${chunk(content.slice(0, 30))}${chunk(content.slice(30))}0\r\n\r\n`,
    );
    assert.equal(bodyOf(chunked).body.f.sha256, sha256("sent in chunks"));
  });

  test("an empty file input (no file chosen) reads as a missing field", async () => {
    const body = part('name="file"; filename=""', "", "application/octet-stream") + part('name="n"', "1") + "--XyZ--\r\n";
    const response = await raw(server.port, multipartRequest("/disk/refused", body));
    assert.equal(statusOf(response), 422);
    assert.deepEqual(bodyOf(response).detail, [{ type: "missing", loc: ["body", "file"], msg: "Field required", input: null }]);
  });

  test("temporary files are removed whatever the answer: an error, an HttpError, a 422, a 415", async () => {
    const form = () => {
      const f = new FormData();
      f.append("file", new Blob(["content"]), "f.txt");
      f.append("n", "not a number");
      return f;
    };
    assert.equal((await post(server.url + "/disk/throws", form())).status, 500);
    assert.equal((await post(server.url + "/disk/http-error", form())).status, 409);
    assert.equal((await post(server.url + "/disk/refused", form())).status, 422);
    assert.equal((await post(server.url + "/json-only", form())).status, 415);
    await noTempFiles();
  });

  test("an answer streamed from the upload is sent whole: the file is removed only once the stream ends", async () => {
    const content = Buffer.alloc(9_000_000);
    for (let i = 0; i < content.length; i++) content[i] = i % 251;
    const form = new FormData();
    form.append("file", new Blob([content]), "back.bin");
    const response = await fetch(server.url + "/disk/stream-back", { method: "POST", body: form });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    await delay(100);
    assert.equal(tempFiles().length, 1, "the file is still there while the answer streams");
    const rest: Uint8Array[] = [first.value!];
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest.push(chunk.value);
    assert.equal(sha256(Buffer.concat(rest)), sha256(content));
    await noTempFiles();
  });

  test("the web's own APIs take an upload, and a plain dependency of an async route gets it too", async () => {
    const form = new FormData();
    form.append("file", new Blob(["hello world"]), "w.txt");
    assert.deepEqual((await post(server.url + "/web", form)).json, { streamed: 11, asBody: 11, inFormData: "w.txt", sliced: "hello" });
    const dep = await post(server.url + "/dependency", form);
    assert.equal(dep.status, 200, dep.text);
    assert.notEqual(dep.json.thread, 0, "the dependency ran on the pool");
    assert.deepEqual({ sha256: dep.json.sha256, onDisk: dep.json.onDisk }, { sha256: sha256("hello world"), onDisk: true });
    await noTempFiles();
  });
});

describe("multipart forms under attack", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, logWrite: logs.write, bodyLimit: 64 * 1024 });
  });
  after(() => server.close());

  test("per-route limits: file size, file count, field count, field bytes, each a 413 naming it", async () => {
    const tooBig = new FormData();
    tooBig.append("file", new Blob([new Uint8Array(1001)]), "a.bin");
    const big = await post(server.url + "/tight", tooBig);
    assert.equal(big.status, 413);
    assert.equal(big.json.detail, 'The file in field "file" is larger than this route takes (1000 bytes)');

    const manyFiles = new FormData();
    for (let i = 0; i < 3; i++) manyFiles.append(`f${i}`, new Blob(["x"]), `${i}.txt`);
    assert.deepEqual((await post(server.url + "/tight", manyFiles)).json, { detail: "Too many files: this route takes at most 2" });

    const manyFields = new FormData();
    for (let i = 0; i < 4; i++) manyFields.append(`k${i}`, "v");
    assert.deepEqual((await post(server.url + "/tight", manyFields)).json, { detail: "Too many form fields: this route takes at most 3" });

    const longFields = new FormData();
    longFields.append("a", "x".repeat(60));
    longFields.append("b", "y".repeat(60));
    const long = await post(server.url + "/tight", longFields);
    assert.equal(long.status, 413);
    assert.match(long.json.detail, /text fields are larger than this route takes \(100 bytes together; "b" went past it\)/);

    const withinLimits = new FormData();
    withinLimits.append("a", "x");
    withinLimits.append("file", new Blob([new Uint8Array(1000)]), "a.bin");
    assert.deepEqual((await post(server.url + "/tight", withinLimits)).json, ["a", "file"]);

    const urlencoded = await post(server.url + "/tight", "a=1&b=2&c=3&d=4", { "content-type": "application/x-www-form-urlencoded" });
    assert.deepEqual(urlencoded.json, { detail: "Too many form fields: this route takes at most 3" }, "the field count holds for urlencoded forms");
    await noTempFiles();
  });

  test("a declared length beyond what the route's form can be is refused before the body is read", async () => {
    const response = await raw(
      server.port,
      "POST /tight HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 900000000\r\n\r\n--XyZ\r\n",
    );
    assert.equal(statusOf(response), 413);
    assert.match(response, /connection: close/i);
  });

  test("huge field counts: 100,000 fields are refused at the route's limit, quickly, multipart or urlencoded", async () => {
    const fields = Array.from({ length: 100_000 }, (_, i) => part(`name="f${i}"`, "v")).join("") + "--XyZ--\r\n";
    const started = Date.now();
    const response = await raw(server.port, multipartRequest("/echo", fields));
    assert.equal(statusOf(response), 413);
    assert.deepEqual(bodyOf(response), { detail: "Too many form fields: this route takes at most 1000" });
    const urlencoded = await post(server.url + "/echo", "a&".repeat(30_000), { "content-type": "application/x-www-form-urlencoded" });
    assert.equal(urlencoded.status, 413);
    assert.ok(Date.now() - started < 10_000);
  });

  test("malformed bodies are a 400: no boundary, an empty one, a body cut short, no parts at all", async () => {
    const noBoundary = await raw(
      server.port,
      multipartRequest("/echo", part('name="a"', "1"), { boundary: "" }).toString("latin1").replace("; boundary=", ""),
    );
    assert.equal(statusOf(noBoundary), 400);
    assert.match(bodyOf(noBoundary).detail, /^Malformed multipart body: .*[Bb]oundary/);
    const emptyBoundary = await raw(server.port, multipartRequest("/echo", part('name="a"', "1"), { boundary: '""' }));
    assert.equal(statusOf(emptyBoundary), 400);
    const truncated = await raw(server.port, multipartRequest("/disk", part('name="file"; filename="a.txt"', "x".repeat(5000))));
    assert.equal(statusOf(truncated), 400);
    assert.match(bodyOf(truncated).detail, /^Malformed multipart body: .*(end|terminated)/);
    const garbage = await raw(server.port, multipartRequest("/echo", "this is not a multipart body at all"));
    assert.equal(statusOf(garbage), 400);
    const overlongBoundary = await raw(server.port, multipartRequest("/echo", part('name="a"', "1"), { boundary: "b".repeat(300) }));
    assert.equal(statusOf(overlongBoundary), 400);
    await noTempFiles();
  });

  test("a client that leaves halfway through an upload leaves no file behind, and the server carries on", async () => {
    const head = part('name="file"; filename="big.bin"', "").slice(0, -2);
    const request = multipartRequest("/disk", Buffer.concat([Buffer.from(head, "latin1"), Buffer.alloc(3_000_000, 1)]));
    await new Promise<void>((resolve) => {
      const socket = connect(server.port, "127.0.0.1", () => {
        socket.write(request.subarray(0, 1_000_000), () => setTimeout(() => socket.destroy(), 200));
      });
      socket.on("close", () => resolve());
      socket.on("error", () => {});
    });
    await noTempFiles();
    const form = new FormData();
    form.append("file", new Blob(["after"]), "after.txt");
    assert.equal((await post(server.url + "/disk", form)).status, 200);
    await noTempFiles();
  });

  test("a client that leaves while its handler runs: the files go once the answer is made", async () => {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(10_000)]), "slow.bin");
    const abort = new AbortController();
    const pending = fetch(server.url + "/disk/slow", { method: "POST", body: form, signal: abort.signal }).catch(() => "aborted");
    const until = Date.now() + 1500;
    while (tempFiles().length === 0 && Date.now() < until) await delay(10);
    assert.equal(tempFiles().length, 1, "the file waits on disk while the handler runs");
    abort.abort();
    assert.equal(await pending, "aborted");
    await noTempFiles();
  });

  test("Expect: 100-continue: an upload over the body limit is invited when its route takes it, refused when not", async () => {
    const payload = Buffer.concat([
      Buffer.from(part('name="file"; filename="a.bin"', "").slice(0, -2), "latin1"),
      Buffer.alloc(100_000, 2),
      Buffer.from("\r\n--XyZ--\r\n"),
    ]);
    const invited = await new Promise<string>((resolve) => {
      let data = "";
      const socket = connect(server.port, "127.0.0.1", () => {
        socket.write(multipartRequest("/disk", payload, { headers: "Expect: 100-continue\r\n" }).subarray(0, -payload.length));
      });
      socket.on("data", (d) => {
        data += d.toString("latin1");
        if (data === "HTTP/1.1 100 Continue\r\n\r\n") socket.write(payload);
      });
      socket.on("close", () => resolve(data));
    });
    assert.match(invited, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    const large = Buffer.alloc(300_000, 3);
    const refused = await raw(server.port, multipartRequest("/tight", large, { headers: "Expect: 100-continue\r\n" }).subarray(0, -large.length));
    assert.match(refused, /^HTTP\/1\.1 413 /, "no 100 Continue: the body is never sent");
    await noTempFiles();
  });

  test("200 concurrent small uploads, each spooled to disk: every answer right, every file gone", async () => {
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const form = new FormData();
        form.append("file", new Blob([`upload number ${i}`]), `${i}.txt`);
        return post(server.url + (i % 2 === 0 ? "/disk" : "/sync/disk"), form);
      }),
    );
    replies.forEach((reply, i) => {
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.json.file.sha256, sha256(`upload number ${i}`));
      assert.equal(reply.json.file.onDisk, true);
    });
    await noTempFiles();
    assert.deepEqual(
      logs.err.filter((line) => /ERROR/.test(line)),
      [],
    );
  });
});
