// Scenario `uploads`: multipart uploads spooled to disk, Loopwise beside the floor (node:http and
// @fastify/busboy piping each file to a temporary file). One 20 MiB file at a time, then 16 small
// ones at once. What matters: throughput, the server's CPU per upload, and its memory: the peak
// RSS growth of each 20 MiB upload (the first after a small warm-up, then the worst of the next
// four), read from /proc, where a server that held the file would grow by more than the file.
import { randomFillSync } from "node:crypto";
import { mkdtempSync, openAsBlob, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchContext } from "../lib/context.ts";
import { peers, withPeer, type Peer, type PeerSpec } from "../lib/peer.ts";
import { fmt, printTable, type Row } from "../lib/table.ts";

const MiB = 1024 * 1024;
const largeRuns = 5;
const smallBatch = 16;
const smallRounds = 8;

function peakRssKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
}

async function upload(url: string, file: string, size?: number): Promise<void> {
  const form = new FormData();
  const blob = await openAsBlob(file);
  form.append("file", size === undefined ? blob : blob.slice(0, size), "upload.bin");
  const response = await fetch(url, { method: "POST", body: form });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`upload answered ${response.status}: ${text}`);
}

interface UploadRun {
  mbPerSec: number;
  cpuMsPerUpload: number;
  firstGrowthMb: number;
  worstGrowthMb: number;
  loopDelayMaxMs: number;
  smallPerSec: number;
}

async function run(peer: Peer, large: string, small: string): Promise<UploadRun> {
  const url = `${peer.url}/upload`;
  await upload(url, large, 2 * MiB);
  const growths: number[] = [];
  const before = await peer.stats(true);
  const started = performance.now();
  for (let i = 0; i < largeRuns; i++) {
    writeFileSync(`/proc/${peer.pid}/clear_refs`, "5");
    const base = peakRssKb(peer.pid, "VmRSS");
    await upload(url, large);
    growths.push((peakRssKb(peer.pid, "VmHWM") - base) / 1024);
  }
  const seconds = (performance.now() - started) / 1000;
  const after = await peer.stats();
  const smallStarted = performance.now();
  for (let round = 0; round < smallRounds; round++) await Promise.all(Array.from({ length: smallBatch }, () => upload(url, small)));
  return {
    mbPerSec: (largeRuns * 20) / seconds,
    cpuMsPerUpload: (after.cpuMs - before.cpuMs) / largeRuns,
    firstGrowthMb: growths[0]!,
    worstGrowthMb: Math.max(...growths.slice(1)),
    loopDelayMaxMs: after.loopDelayMaxMs,
    smallPerSec: (smallBatch * smallRounds) / ((performance.now() - smallStarted) / 1000),
  };
}

export async function uploads(context: BenchContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-uploads-"));
  const large = join(dir, "large.bin");
  const small = join(dir, "small.bin");
  writeFileSync(large, randomFillSync(Buffer.alloc(20 * MiB)));
  writeFileSync(small, randomFillSync(Buffer.alloc(64 * 1024)));
  const specs: PeerSpec[] = [peers.rawUpload(), peers.loopwise()];
  const best = new Map<string, UploadRun>();
  try {
    for (let round = 0; round < context.rounds; round++) {
      for (const spec of specs) {
        await withPeer(spec, async (peer) => {
          const result = await run(peer, large, small);
          const previous = best.get(spec.name);
          // The best throughput, and the memory figures of the worst round: memory is the point here.
          if (!previous) best.set(spec.name, result);
          else
            best.set(spec.name, {
              ...(result.mbPerSec > previous.mbPerSec ? result : previous),
              firstGrowthMb: Math.max(result.firstGrowthMb, previous.firstGrowthMb),
              worstGrowthMb: Math.max(result.worstGrowthMb, previous.worstGrowthMb),
            });
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows: Row[] = [...best].map(([name, r]) => ({
    server: name,
    "20 MiB MB/s": r.mbPerSec.toFixed(0),
    "server CPU ms/upload": r.cpuMsPerUpload.toFixed(0),
    "RSS growth, first 20 MiB (MB)": r.firstGrowthMb.toFixed(1),
    "RSS growth, worst of next 4 (MB)": r.worstGrowthMb.toFixed(1),
    "loop delay max ms": fmt.ms(r.loopDelayMaxMs),
    [`64 KiB uploads/s (${smallBatch} at once)`]: r.smallPerSec.toFixed(0),
  }));
  printTable("Uploads: multipart files spooled to disk, one 20 MiB file at a time, then 64 KiB files 16 at once", rows, context.markdown);
  const ours = best.get("Loopwise")!;
  const growth = Math.max(ours.firstGrowthMb, ours.worstGrowthMb);
  context.target("a 20 MiB upload grows the server's RSS by less than 10 MB", growth < 10, `${growth.toFixed(1)} MB at worst`);
}
