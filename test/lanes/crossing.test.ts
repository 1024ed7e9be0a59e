// The crossing's contract, piece by piece: each value goes through the structured clone (what
// postMessage does between threads) or v8.serialize (what the queue lane sends through Redis), as
// it does on the way, and must come out as the other side needs it.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FileBody } from "../../src/http/file-body.ts";
import { HttpError } from "../../src/http/http-error.ts";
import type { HttpRequest } from "../../src/http/request.ts";
import { answeredError, AnsweredError, decodeError, encodeError } from "../../src/lanes/errors.ts";
import { encodeRequest, receiveRequest, uploadsOf } from "../../src/lanes/request.ts";
import { decodeFromProcess, decodeResult, encodeForProcess, encodeResult } from "../../src/lanes/results.ts";
import { cancelSignalKey, cancelSignalOf, requestTask, timeLeft } from "../../src/lanes/task.ts";
import { noteUploads, UploadFile } from "../../src/params/upload-file.ts";
import { decodeJobRequest, encodeJobRequest, encodeJobResult, decodeJobResult } from "../../src/queue/job-codec.ts";
import { captureContext, ContextVar, runInContext } from "../../src/threads/context-var.ts";

const dir = mkdtempSync(join(tmpdir(), "loopwise-crossing-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function request(fields: Partial<HttpRequest> = {}): HttpRequest {
  return {
    method: "POST",
    url: "/x?a=1",
    path: "/x",
    params: {},
    query: { a: "1" },
    headers: { "content-type": "application/json" },
    cookies: {},
    body: undefined,
    client: "127.0.0.1",
    scheme: "http",
    rootPath: "",
    signal: new AbortController().signal,
    ...fields,
  } as HttpRequest;
}

test("an HttpError crosses with its status, detail and headers, and is an HttpError again", () => {
  const crossed = structuredClone(encodeError(new HttpError(409, { reason: "taken" }, { "x-why": "dup" })));
  const error = decodeError(crossed);
  assert.ok(error instanceof HttpError);
  assert.equal(error.status, 409);
  assert.deepEqual(error.detail, { reason: "taken" });
  assert.deepEqual(error.headers, { "x-why": "dup" });
});

test("an HttpError whose detail cannot cross crosses as a plain error (a 500, as it would be answered where raised)", () => {
  const crossed = encodeError(new HttpError(400, { check: () => true }));
  assert.equal(crossed.http, undefined);
  assert.doesNotThrow(() => structuredClone(crossed));
  assert.equal(decodeError(crossed).name, "HttpError");
  assert.ok(!(decodeError(crossed) instanceof HttpError));
});

test("an error the app answered where it was raised carries its answer, a file body included", () => {
  const answer = { status: 200, headers: {}, body: new FileBody("/etc/hostname", true, false) };
  const error = decodeError(structuredClone(answeredError(new RangeError("handled"), answer)));
  assert.ok(error instanceof AnsweredError);
  assert.equal(error.result.status, 200);
  assert.ok(error.result.body instanceof FileBody, "the file's source is made a FileBody again");
  assert.equal((error.result.body as FileBody).path, "/etc/hostname");
});

test("any other error keeps its name, message and stack", () => {
  const raised = new TypeError("bad input");
  const error = decodeError(structuredClone(encodeError(raised)));
  assert.equal(error.name, "TypeError");
  assert.equal(error.message, "bad input");
  assert.equal(error.stack, raised.stack);
});

test("hostile thrown values still cross: encodeError never throws and always gives plain data", () => {
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const getterThrows = Object.defineProperty(new Error("x"), "message", {
    get() {
      throw new Error("no");
    },
  });
  for (const value of [undefined, null, Symbol("s"), Object.create(null), revoked.proxy, getterThrows, 42n]) {
    const crossed = encodeError(value);
    assert.equal(typeof crossed.message, "string");
    assert.doesNotThrow(() => structuredClone(crossed));
    assert.doesNotThrow(() => encodeForProcess(crossed));
  }
});

test("a request without uploads crosses as itself (nothing copied); with uploads, as descriptors made files again", async () => {
  const plain = request({ body: { a: 1 } });
  assert.equal(encodeRequest(plain), plain);

  const spooled = join(dir, "spooled.bin");
  writeFileSync(spooled, "on disk");
  const small = UploadFile.fromMemory(new TextEncoder().encode("in memory"), "small.txt", "text/plain");
  const large = await UploadFile.fromDisk(spooled, "large.bin", "application/octet-stream");
  const withUploads = request({ body: { title: "t", file: small, more: [large, "text"] } });
  noteUploads(withUploads);
  const encoded = encodeRequest(withUploads);
  assert.notEqual(encoded, withUploads, "a copy: the main thread's request keeps its files");
  assert.deepEqual(
    uploadsOf(encoded).map((u) => [u.name, u.path === undefined]),
    [
      ["small.txt", true],
      ["large.bin", false],
    ],
  );

  const cancel = new AbortController();
  const received = await receiveRequest(structuredClone(encoded), cancel.signal, (req) => req);
  const body = received.body as { title: string; file: UploadFile; more: [UploadFile, string] };
  assert.equal(body.title, "t");
  assert.ok(body.file instanceof UploadFile);
  assert.equal(await body.file.text(), "in memory");
  assert.ok(body.more[0] instanceof UploadFile);
  assert.equal(body.more[0].path, spooled);
  assert.equal(await body.more[0].text(), "on disk");
  assert.equal(body.more[1], "text");
  assert.equal(received.signal, cancel.signal, "the task's signal takes the place of the one that could not cross");
  // Received with uploads, it crosses on with them (a worker process's loop sending it to its own pool).
  assert.equal(uploadsOf(encodeRequest(received)).length, 2);
});

test("a request with no signal of its own gets one that never fires", async () => {
  const received = await receiveRequest(structuredClone(encodeRequest(request())), undefined, (req) => req);
  assert.equal(received.signal.aborted, false);
});

test("the queue lane carries the same request: every own field, small uploads; a spooled upload is refused by name", async () => {
  const small = UploadFile.fromMemory(new Uint8Array([1, 2, 3]), "tiny.bin", "application/octet-stream");
  const req = request({ body: { file: small, when: new Date(0) }, rawBody: new Uint8Array([9]) });
  noteUploads(req);
  const carried = decodeJobRequest(encodeJobRequest(req, { vars: { "k:1": "tenant-a" } }));
  assert.deepEqual(carried.context, { vars: { "k:1": "tenant-a" } });
  assert.equal(carried.request.scheme, "http");
  assert.deepEqual(carried.request.rawBody, new Uint8Array([9]));
  const received = await receiveRequest(carried.request, undefined, (r) => r);
  const body = received.body as { file: UploadFile; when: Date };
  assert.ok(body.when instanceof Date, "v8.serialize keeps a Date a Date");
  assert.deepEqual(new Uint8Array(await body.file.arrayBuffer()), new Uint8Array([1, 2, 3]));

  const path = join(dir, "big.bin");
  writeFileSync(path, "x");
  const spooled = request({ body: { file: await UploadFile.fromDisk(path, "big.bin", "application/octet-stream") } });
  noteUploads(spooled);
  assert.throws(() => encodeJobRequest(spooled, undefined), { name: "RequestCloneError", message: /"big\.bin".*spooled to disk/ });
  assert.throws(() => encodeJobRequest(request({ body: { fn: () => 1 } }), undefined), { name: "RequestCloneError" });
});

test("an answer crosses whole: a streamed body read on the worker, a file as its source, made a FileBody again", async () => {
  async function* chunks() {
    yield "a";
    yield new Uint8Array([98]);
  }
  const whole = await encodeResult({ status: 200, headers: {}, body: chunks() });
  assert.equal(Buffer.from(whole.body as Uint8Array).toString(), "ab");

  const file = { status: 200, headers: {}, body: new FileBody("/etc/hosts", true, true) };
  assert.equal(encodeResult(file), file, "a file is left for the main thread to open");
  const back = decodeResult(structuredClone(file));
  assert.ok(back.body instanceof FileBody);
  assert.deepEqual([back.body.path, back.body.etag, back.body.lastModified], ["/etc/hosts", true, true]);
  const text = { status: 200, headers: {}, body: "plain" };
  assert.equal(decodeResult(text), text);
});

test("an answer for a worker process: bytes and dates survive; what cannot go is a 500 that says why", () => {
  const round = decodeFromProcess<{ at: Date; map: Map<string, number>; bytes: Uint8Array }>(
    encodeForProcess({ at: new Date(5), map: new Map([["a", 1]]), bytes: new Uint8Array([7]) }),
  );
  assert.equal(round.at.getTime(), 5);
  assert.equal(round.map.get("a"), 1);
  assert.deepEqual(round.bytes, new Uint8Array([7]));

  const meta = { lane: "worker#1", worker: "host:1", runMs: 1, poolWaitMs: 0 };
  const unsendable = decodeJobResult(encodeJobResult({ status: 200, headers: {}, body: { fn() {} } as never, ...meta }));
  assert.equal(unsendable.status, 500);
  assert.match(unsendable.error!.message, /cannot be sent back from the worker/);
  const file = decodeJobResult(encodeJobResult({ status: 200, headers: {}, body: new FileBody("/etc/hosts", true, true), ...meta }));
  assert.equal(file.status, 500);
  assert.match(file.error!.message, /cannot answer with file\(\)/);
});

test("what a task carries: the client's cheap cancel signal, the caller's context, what is left of its limit", () => {
  const cheap = { aborted: false, addEventListener() {}, removeEventListener() {} };
  const own = request();
  assert.equal(cancelSignalOf(own), own.signal);
  const watched = Object.assign(request(), { [cancelSignalKey]: cheap });
  assert.equal(cancelSignalOf(watched), cheap);

  assert.equal(captureContext(), undefined, "no context variable set: nothing to copy");
  assert.equal("timeoutMs" in requestTask(own), false);
  const tenant = new ContextVar<string>();
  tenant.run("acme", () => {
    const options = requestTask(watched, 250);
    assert.equal(options.signal, cheap);
    assert.equal(options.timeoutMs, 250);
    assert.deepEqual(options.context, { vars: { [tenant.key]: "acme" } });
    // The other side sets exactly the caller's variables, and nothing left over.
    runInContext(structuredClone(options.context) as never, () => assert.equal(tenant.get(), "acme"));
  });
  runInContext(undefined, () => assert.equal(tenant.get(), undefined));

  assert.equal(timeLeft(1_000, performance.now() - 5_000), 1, "at least 1 ms, however late");
  assert.ok(timeLeft(1_000, performance.now()) > 900);
});
