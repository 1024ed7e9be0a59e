// docs/deployment.md's app, served as the page says: behind a proxy that names the client and
// serves the app under /api, over a real socket; and over a Unix socket as nginx reaches it.
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { serve } from "loopwise";
import { app } from "../../docs/examples/deployment/main.ts";
import { captureLogs, request } from "../helpers.ts";

test("with proxyHeaders and rootPath, the client and scheme come from the proxy and links carry the prefix", async () => {
  const server = await serve(app, { port: 0, poolSize: 1, logWrite: captureLogs().write, proxyHeaders: true, rootPath: "/api" });
  try {
    const headers = { "x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https", host: "example.com" };
    assert.deepEqual((await request(`${server.url}/whoami`, { headers })).json, { client: "203.0.113.7:0", scheme: "https" });
    assert.deepEqual((await request(`${server.url}/items/3`, { headers })).json, { id: "3", self: "https://example.com/api/items/3" });
  } finally {
    await server.close();
  }
});

test("on a Unix socket, as the nginx site reaches it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "lw-doc-"));
  const server = await serve(app, { uds: join(dir, "app.sock"), poolSize: 1, logWrite: captureLogs().write, proxyHeaders: true });
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ socketPath: join(dir, "app.sock"), path: "/whoami", headers: { "x-forwarded-for": "198.51.100.2" } }, (res) => {
        let text = "";
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject).end();
    });
    assert.deepEqual(JSON.parse(body), { client: "198.51.100.2:0", scheme: "http" });
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
