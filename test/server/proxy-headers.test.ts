// --proxy-headers and --forwarded-allow-ips: the client and scheme a trusted proxy names, and
// nothing from anyone else. The rules on their own first, then over real sockets from a trusted
// peer (127.0.0.1) and an untrusted one (127.0.0.2, also this machine's loopback).
import assert from "node:assert/strict";
import { request as httpRequest, type OutgoingHttpHeaders } from "node:http";
import { isIP } from "node:net";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { serve, type RunningServer } from "loopwise";
import { forwardedClient, TrustedProxies } from "../../src/server/proxy-headers.ts";
import { app } from "../fixtures/deploy-app.ts";
import { captureLogs, runCli, fixture } from "../helpers.ts";

const local = TrustedProxies.parse("127.0.0.1,::1");

describe("which proxies are trusted", () => {
  test("addresses, CIDR ranges of both families, IPv4-mapped IPv6 peers", () => {
    const trusted = TrustedProxies.parse(" 127.0.0.1 , 10.0.0.0/8,fd00::/8, 2001:db8::1 ");
    for (const address of ["127.0.0.1", "10.200.3.4", "::ffff:10.1.1.1", "::ffff:127.0.0.1", "fd12:3456::9", "2001:db8::1"]) {
      assert.ok(trusted.trusts(address), address);
    }
    for (const address of ["127.0.0.2", "11.0.0.1", "fe80::1", "2001:db8::2", "::1", "", "localhost", "10.0.0.1:80"]) {
      assert.ok(!trusted.trusts(address), address);
    }
    assert.ok(TrustedProxies.parse(["192.168.0.0/16"]).trusts("192.168.44.1"));
    assert.ok(TrustedProxies.parse("*").trusts("203.0.113.5"));
  });

  test("an entry that is not an address, a range or * is an error that names it", async () => {
    for (const bad of ["10.0.0.0/33", "fd00::/129", "localhost", "10.0.0.0/8/8", "10.0.0.0/", "10.0.0.0/x", "1.2.3", "unix:"]) {
      assert.throws(
        () => TrustedProxies.parse(`127.0.0.1,${bad}`),
        (error: Error) => error.message.includes(`"${bad}"`),
        bad,
      );
    }
    await assert.rejects(serve(app, { port: 0, forwardedAllowIps: "nope" }), /"nope" is not an IP address/);
  });
});

describe("reading X-Forwarded-For from the right", () => {
  test("the first hop that is not a trusted proxy is the client; what it wrote to its left is ignored", () => {
    const trusted = TrustedProxies.parse("127.0.0.1,10.0.0.0/8");
    assert.equal(forwardedClient("203.0.113.7", trusted), "203.0.113.7");
    assert.equal(forwardedClient("203.0.113.7, 10.0.0.5", trusted), "203.0.113.7");
    // A client that sends its own header to a proxy that appends: its claim is left of its address.
    assert.equal(forwardedClient("1.1.1.1, 198.51.100.9, 10.0.0.5", trusted), "198.51.100.9");
    assert.equal(forwardedClient("127.0.0.1, 198.51.100.9", trusted), "198.51.100.9");
    // Every hop trusted: the leftmost one, as uvicorn says.
    assert.equal(forwardedClient("10.1.1.1, 10.2.2.2", trusted), "10.1.1.1");
  });

  test("with * the leftmost address is the client", () => {
    assert.equal(forwardedClient("203.0.113.7, 198.51.100.9, 10.0.0.5", TrustedProxies.parse("*")), "203.0.113.7");
  });

  test("ports and brackets are taken off; IPv6 hops work", () => {
    assert.equal(forwardedClient("203.0.113.7:5123", local), "203.0.113.7");
    assert.equal(forwardedClient("[2001:db8::7]:443", local), "2001:db8::7");
    assert.equal(forwardedClient("[2001:db8::7]", local), "2001:db8::7");
    assert.equal(forwardedClient("2001:db8::7", local), "2001:db8::7");
    assert.equal(forwardedClient("2001:db8::7, ::1", local), "2001:db8::7");
  });

  test("a malformed hop stops the walk: the client is the last hop that could be read, or none", () => {
    const trusted = TrustedProxies.parse("127.0.0.1,10.0.0.0/8");
    for (const header of [
      "",
      " ",
      ",",
      "unknown",
      "_hidden",
      "evil<script>",
      "1.2.3.4.5",
      "[::1",
      "[::1]x",
      "fe80::1%eth0",
      "[fe80::1%eth0]:80",
      "1.2.3.4:99999",
    ]) {
      assert.equal(forwardedClient(header, trusted), undefined, JSON.stringify(header));
    }
    assert.equal(forwardedClient("203.0.113.7, garbage, 10.0.0.5", trusted), "10.0.0.5");
    assert.equal(forwardedClient("203.0.113.7,, 10.0.0.5", trusted), "10.0.0.5");
    assert.equal(forwardedClient("garbage, 203.0.113.7", trusted), "203.0.113.7");
  });

  test("random headers: the client is the first untrusted readable hop from the right, never one left of it", () => {
    // Each hop as sent, with the address it stands for (undefined: not an address).
    const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom("10.0.0.1", "10.9.9.9", "127.0.0.1", "::1"));
    const hop = fc.oneof(
      address.map((a) => ({ text: ` ${a} `, address: a as string | undefined })),
      fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 65535 })).map(([a, port]) => ({ text: `${a}:${port}`, address: a as string | undefined })),
      fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 65535 })).map(([a, port]) => ({ text: `[${a}]:${port}`, address: a as string | undefined })),
      fc
        .string()
        .filter((s) => !s.includes(",") && isIP(s.trim()) === 0 && !/^[\d.]+:\d+$/.test(s.trim()) && !s.trim().startsWith("["))
        .map((s) => ({ text: s, address: undefined as string | undefined })),
    );
    const trusted = TrustedProxies.parse("127.0.0.1,::1,10.0.0.0/8");
    fc.assert(
      fc.property(fc.array(hop, { minLength: 1, maxLength: 12 }), (hops) => {
        let expected: string | undefined;
        for (const { address } of hops.toReversed()) {
          if (address === undefined) break;
          expected = address;
          if (!trusted.trusts(address)) break;
        }
        assert.equal(forwardedClient(hops.map((h) => h.text).join(","), trusted), expected);
      }),
      { numRuns: 2000 },
    );
  });
});

interface Seen {
  client: string;
  scheme: string;
  rootPath: string;
}

/** GET over a real socket, from `localAddress`, with the headers a proxy (or a liar) would send. */
function whoami(url: string, path: string, headers: OutgoingHttpHeaders, localAddress?: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { headers, localAddress, agent: false }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve(JSON.parse(text)));
    });
    req.on("error", reject).end();
  });
}

describe("over real sockets", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 1, logWrite: logs.write, proxyHeaders: true, rootPath: "/api" });
  });
  after(() => server.close());

  for (const path of ["/whoami", "/whoami-worker"]) {
    test(`from a trusted proxy, ${path} sees the client and scheme it names, and the access log shows the client`, async () => {
      const seen = await whoami(server.url, path, { "x-forwarded-for": "203.0.113.50, 127.0.0.1", "x-forwarded-proto": "https" });
      assert.deepEqual(seen, { client: "203.0.113.50:0", scheme: "https", rootPath: "/api" });
      assert.ok(
        logs.out.some((line) => line.includes(`203.0.113.50:0 - "GET ${path} HTTP/1.1" 200`)),
        logs.out.join("\n"),
      );
    });
  }

  test("from an untrusted peer, forged headers are ignored: its own address and the connection's scheme", async () => {
    const seen = await whoami(server.url, "/whoami", { "x-forwarded-for": "203.0.113.50", "x-forwarded-proto": "https" }, "127.0.0.2");
    assert.match(seen.client, /^127\.0\.0\.2:\d+$/);
    assert.equal(seen.scheme, "http");
    assert.ok(!logs.out.some((line) => line.includes("127.0.0.2") && line.includes("203.0.113.50")));
  });

  test("malformed values from a trusted proxy leave the connection's own", async () => {
    for (const [xff, proto] of [
      ["not-an-ip", "gopher"],
      [",,,", "https, http"],
      ["999.1.1.1", ""],
      ["x".repeat(8000), "HTTPS "],
    ] as const) {
      const seen = await whoami(server.url, "/whoami", { "x-forwarded-for": xff, "x-forwarded-proto": proto });
      assert.match(seen.client, /^127\.0\.0\.1:\d+$/, xff.slice(0, 20));
      assert.equal(seen.scheme, proto === "HTTPS " ? "https" : "http", proto);
    }
    // The header sent twice is one list (Node joins them), read like any other.
    const twice = await whoami(server.url, "/whoami", { "x-forwarded-for": ["198.51.100.1", "127.0.0.1"] });
    assert.equal(twice.client, "198.51.100.1:0");
    const healthy = await whoami(server.url, "/whoami", {});
    assert.match(healthy.client, /^127\.0\.0\.1:\d+$/);
  });

  test("forwardedAllowIps narrows who is believed; without proxyHeaders nobody is", async () => {
    const narrow = await serve(app, { port: 0, poolSize: 1, logWrite: captureLogs().write, forwardedAllowIps: ["10.0.0.0/8"] });
    const off = await serve(app, { port: 0, poolSize: 1, logWrite: captureLogs().write });
    try {
      for (const other of [narrow, off]) {
        const seen = await whoami(other.url, "/whoami", { "x-forwarded-for": "203.0.113.50", "x-forwarded-proto": "https" });
        assert.match(seen.client, /^127\.0\.0\.1:\d+$/);
        assert.equal(seen.scheme, "http");
        assert.equal(seen.rootPath, "");
      }
    } finally {
      await Promise.all([narrow.close(), off.close()]);
    }
  });

  test("over IPv6: a trusted ::1 peer is believed, and the client may be IPv6", async () => {
    const v6 = await serve(app, { host: "::1", port: 0, poolSize: 1, logWrite: captureLogs().write, proxyHeaders: true });
    try {
      assert.match(v6.url, /^http:\/\/\[::1\]:\d+$/);
      const seen = await whoami(v6.url, "/whoami", { "x-forwarded-for": "2001:db8::42", "x-forwarded-proto": "https" });
      assert.deepEqual(seen, { client: "2001:db8::42:0", scheme: "https", rootPath: "" });
    } finally {
      await v6.close();
    }
  });
});

test("the CLI refuses a mistyped --forwarded-allow-ips before serving (exit code 1)", async () => {
  const result = await runCli(["run", `${fixture("deploy-app.ts")}:app`, "--port", "0", "--forwarded-allow-ips", "10.0.0.0/8,10.0.0.300"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /"10\.0\.0\.300" is not an IP address/);
});
