// Scenario `files`: a static directory served by Loopwise's mount beside node:http with `send`
// (the jshttp code Express serves files with): requests per second for a 1 KiB file, and the
// speed of a 256 MiB download, each peer in its own process.
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchContext } from "../lib/context.ts";
import { closedLoop } from "../lib/load.ts";
import { peers, withPeer, type Peer, type PeerSpec } from "../lib/peer.ts";
import { fmt, printTable, type Row } from "../lib/table.ts";

const bigBytes = 256 * 2 ** 20;
const durationSec = Number(process.env.BENCH_DURATION ?? 5);

/** Downloads `url` to nowhere; resolves with MB/s. */
function download(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let bytes = 0;
    request(url, { agent: false }, (res) => {
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on("end", () => {
        if (bytes !== bigBytes) reject(new Error(`${url}: ${bytes} of ${bigBytes} bytes`));
        else resolve(bytes / 2 ** 20 / ((performance.now() - started) / 1000));
      });
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

async function measure(peer: Peer): Promise<{ reqPerSec: number; p99Ms: number; cpuUs: number; mbPerSec: number; rssMb: number }> {
  const url = `${peer.url}/static/small.txt`;
  await closedLoop({ url, connections: 32, durationSec: 1 });
  const before = await peer.stats(true);
  const small = await closedLoop({ url, connections: 32, durationSec });
  const after = await peer.stats();
  if (small.failures > 0) throw new Error(`${peer.name}: ${small.failures} failed requests`);
  const speeds: number[] = [];
  for (let i = 0; i < 3; i++) speeds.push(await download(`${peer.url}/static/big.bin`));
  const end = await peer.stats();
  return {
    reqPerSec: small.reqPerSec,
    p99Ms: small.p99Ms,
    cpuUs: ((after.cpuMs - before.cpuMs) * 1000) / small.total,
    mbPerSec: Math.max(...speeds),
    rssMb: end.rssMb,
  };
}

export async function files(ctx: BenchContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "loopwise-bench-files-"));
  try {
    writeFileSync(join(dir, "small.txt"), "x".repeat(1024));
    // Sparse: read as zeros, so the disk is not what is measured.
    writeFileSync(join(dir, "big.bin"), "");
    truncateSync(join(dir, "big.bin"), bigBytes);
    const env = { BENCH_FILES_DIR: dir };
    const specs: PeerSpec[] = [
      { name: "node:http + send", args: ["--import", "tsx", "bench/peers/send-files.ts"], env },
      { ...peers.loopwise("Loopwise staticFiles"), env },
    ];
    const best = new Map<string, Awaited<ReturnType<typeof measure>>>();
    for (let round = 0; round < ctx.rounds; round++) {
      for (const spec of specs) {
        const result = await withPeer(spec, measure);
        const previous = best.get(spec.name);
        best.set(spec.name, {
          ...result,
          reqPerSec: Math.max(result.reqPerSec, previous?.reqPerSec ?? 0),
          mbPerSec: Math.max(result.mbPerSec, previous?.mbPerSec ?? 0),
        });
      }
    }
    const base = best.get(specs[0]!.name)!;
    const rows: Row[] = [...best].map(([server, r]) => ({
      server,
      "1 KiB file req/s": fmt.int(r.reqPerSec),
      "p99 ms": fmt.ms(r.p99Ms),
      "server CPU µs/req": r.cpuUs.toFixed(1),
      "vs send": fmt.ratio(r.reqPerSec / base.reqPerSec),
      "256 MiB download MB/s": fmt.int(r.mbPerSec),
      "RSS after MB": r.rssMb.toFixed(0),
    }));
    printTable("Static files: a 1 KiB file under 32 connections; a 256 MiB file, one download at a time", rows, ctx.markdown);
    const ours = best.get(specs[1]!.name)!;
    // CPU per request, not req/s: on a shared machine the load generator's share moves req/s more than the server does.
    const ratio = ours.cpuUs / base.cpuUs;
    ctx.target(
      "files: a small static file costs ≤ 1.3× send's server CPU per request",
      ratio <= 1.3,
      `${fmt.ratio(ratio)} (req/s ${fmt.ratio(ours.reqPerSec / base.reqPerSec)})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
