// HTTPS with sslKeyfile/sslCertfile (--ssl-keyfile/--ssl-certfile): a self-signed certificate
// made by openssl for each run, a real TLS client that checks it, and every way the files can be wrong.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { serve, type RunningServer } from "loopwise";
import { app } from "../fixtures/deploy-app.ts";
import { captureLogs, fixture, request, runCli } from "../helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "loopwise-tls-"));
const file = (name: string) => join(dir, name);

/** A key and a certificate for localhost and 127.0.0.1, valid for a day. */
function selfSigned(key: string, cert: string, name = "localhost"): void {
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
}

selfSigned(file("key.pem"), file("cert.pem"));
selfSigned(file("other-key.pem"), file("other-cert.pem"), "other");
execFileSync("openssl", ["pkey", "-in", file("key.pem"), "-aes256", "-passout", "pass:open sesame", "-out", file("encrypted-key.pem")], {
  stdio: "ignore",
});
writeFileSync(file("junk.pem"), "not a pem file\n");
after(() => rmSync(dir, { recursive: true, force: true }));

/** GET over TLS, trusting only our certificate (so the chain and the name are checked). */
function get(url: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any; protocol: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}${path}`, { ca: readFileSync(file("cert.pem")), headers, agent: false }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          json: JSON.parse(text),
          protocol: (res.socket as import("node:tls").TLSSocket).getProtocol?.() ?? undefined,
        }),
      );
    });
    req.on("error", reject).end();
  });
}

describe("serving HTTPS", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, {
      port: 0,
      poolSize: 1,
      logWrite: logs.write,
      sslKeyfile: file("key.pem"),
      sslCertfile: file("cert.pem"),
      headersTimeout: 1000,
    });
  });
  after(() => server.close());

  test("the startup line says https://, and a TLS client that checks the certificate gets answers on both lanes", async () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    for (const path of ["/whoami", "/whoami-worker"]) {
      const reply = await get(server.url.replace("127.0.0.1", "localhost"), path);
      assert.equal(reply.status, 200);
      assert.equal(reply.json.scheme, "https");
      assert.match(reply.json.client, /^127\.0\.0\.1:\d+$/);
      assert.match(reply.protocol ?? "", /^TLSv1\.[23]$/);
    }
    assert.ok(logs.err.some((line) => line.includes(`Loopwise running on ${server.url}`)));
  });

  test("a client that does not trust the certificate is refused by its own TLS check; the server carries on", async () => {
    await assert.rejects(
      new Promise((resolve, reject) => httpsRequest(`${server.url}/whoami`, { agent: false }, resolve).on("error", reject).end()),
      /self-signed certificate/,
    );
    assert.equal((await get(server.url, "/whoami")).status, 200);
  });

  test("plain HTTP to the HTTPS port gets no answer, and does not hang or harm the server", async () => {
    await assert.rejects(request(`${server.url.replace("https:", "http:")}/whoami`), /socket hang up|ECONNRESET/);
    assert.equal((await get(server.url, "/whoami")).status, 200);
  });

  test("a connection that never starts its handshake is closed after the headers timeout, not Node's 120 s", async () => {
    const { port } = new URL(server.url);
    const socket = connect(Number(port), "127.0.0.1");
    const started = Date.now();
    await new Promise((resolve) => socket.once("close", resolve));
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 900 && elapsed < 15_000, `closed after ${elapsed} ms`);
  });
});

test("an encrypted key is read with sslKeyfilePassword", async () => {
  const server = await serve(app, {
    port: 0,
    poolSize: 1,
    logWrite: captureLogs().write,
    sslKeyfile: file("encrypted-key.pem"),
    sslCertfile: file("cert.pem"),
    sslKeyfilePassword: "open sesame",
  });
  try {
    assert.equal((await get(server.url, "/whoami")).json.scheme, "https");
  } finally {
    await server.close();
  }
});

describe("wrong key or certificate: a clear error before the pool starts", () => {
  const cases: [string, Parameters<typeof serve>[1], RegExp][] = [
    [
      "a missing key file",
      { sslKeyfile: file("nope.pem"), sslCertfile: file("cert.pem") },
      /cannot read the TLS key file \(sslKeyfile\) .*nope\.pem: no such file/,
    ],
    [
      "a missing certificate file",
      { sslKeyfile: file("key.pem"), sslCertfile: file("nope.pem") },
      /cannot read the TLS certificate file .*nope\.pem: no such file/,
    ],
    ["a folder for a file", { sslKeyfile: dir, sslCertfile: file("cert.pem") }, /it is a folder/],
    ["a file that is not PEM", { sslKeyfile: file("junk.pem"), sslCertfile: file("cert.pem") }, /is not a PEM key or certificate/],
    ["a certificate that is not PEM", { sslKeyfile: file("key.pem"), sslCertfile: file("junk.pem") }, /is not a PEM key or certificate/],
    [
      "a key of another certificate",
      { sslKeyfile: file("other-key.pem"), sslCertfile: file("cert.pem") },
      /the key does not belong to the certificate/,
    ],
    [
      "an encrypted key without its passphrase",
      { sslKeyfile: file("encrypted-key.pem"), sslCertfile: file("cert.pem") },
      /passphrase .* is missing or wrong/,
    ],
    [
      "a wrong passphrase",
      { sslKeyfile: file("encrypted-key.pem"), sslCertfile: file("cert.pem"), sslKeyfilePassword: "nope" },
      /passphrase .* is missing or wrong/,
    ],
    ["a key without a certificate", { sslKeyfile: file("key.pem") }, /HTTPS needs both sslKeyfile and sslCertfile/],
    ["a passphrase without a key", { sslKeyfilePassword: "x" }, /sslKeyfilePassword is given without sslKeyfile/],
  ];
  for (const [what, options, message] of cases) {
    test(what, async () => {
      const logs = captureLogs();
      const started = Date.now();
      await assert.rejects(serve(app, { port: 0, poolSize: 1, logWrite: logs.write, ...options }), message);
      assert.ok(!logs.err.some((line) => line.includes("Worker pool ready")), "the pool never started");
      assert.ok(Date.now() - started < 5000);
    });
  }

  test("from the CLI: the error line and exit code 1", async () => {
    const result = await runCli([
      "run",
      `${fixture("deploy-app.ts")}:app`,
      "--port",
      "0",
      "--ssl-keyfile",
      file("key.pem"),
      "--ssl-certfile",
      file("nope.pem"),
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /ERROR Application startup failed: cannot read the TLS certificate file .*nope\.pem: no such file/);
  });
});
