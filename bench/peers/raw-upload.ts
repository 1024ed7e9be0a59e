// The floor for uploads: node:http and @fastify/busboy, each file piped to a temporary file and
// removed after the answer; no framework, no limits, no validation.
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { Busboy, type BusboyHeaders } from "@fastify/busboy";
import { announce, serverStats } from "./stats.ts";

const dir = mkdtempSync(join(tmpdir(), "raw-upload-"));
process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

const server = createServer((req, res) => {
  if (req.url?.startsWith("/stats")) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(serverStats(req.url.includes("reset"))));
    return;
  }
  const parser = Busboy({ headers: req.headers as BusboyHeaders });
  const written: Promise<number>[] = [];
  const paths: string[] = [];
  parser.on("file", (_name, stream) => {
    const path = join(dir, `upload-${++counter}`);
    paths.push(path);
    const out = createWriteStream(path);
    stream.pipe(out);
    written.push(finished(out).then(() => out.bytesWritten));
  });
  parser.on("finish", async () => {
    const sizes = await Promise.all(written);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ size: sizes.reduce((a, b) => a + b, 0) }));
    for (const path of paths) void rm(path, { force: true });
  });
  req.pipe(parser);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => announce(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
