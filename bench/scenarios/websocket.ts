// Scenario `websocket`: Loopwise's WebSocket routes beside the bare `ws` library on node:http.
// Echo round trips from 32 connections in closed loop (messages/s, round-trip time, the server's
// CPU per message); the memory an idle connection costs; and a flood of 64 MB into a handler that
// does not read, where Loopwise stops reading the socket and plain `ws` keeps every message.
import WebSocket from "ws";
import type { BenchContext } from "../lib/context.ts";
import { percentile } from "../lib/load.ts";
import { peers, withPeer, type Peer, type PeerSpec } from "../lib/peer.ts";
import { sampleProcess, watchProcess } from "../lib/proc.ts";
import { fmt, printTable, type Row } from "../lib/table.ts";

const connections = 32;
const idleConnections = 1000;
const floodMessages = 4096;
const floodMessageBytes = 16 * 1024;

const specs = (): PeerSpec[] => [
  { name: "ws on node:http", args: ["--import", "tsx", "bench/peers/ws-raw.ts"] },
  peers.loopwise("Loopwise", ["--pool-size", "1"]),
];

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** Each connection sends a message and waits for its echo, again and again, for `durationSec`. */
async function echo(peer: Peer, durationSec: number) {
  const url = `${peer.url.replace("http:", "ws:")}/ws/echo`;
  const sockets = await Promise.all(Array.from({ length: connections }, () => open(url)));
  const rtts: number[] = [];
  const before = await peer.stats();
  const deadline = performance.now() + durationSec * 1000;
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          let sentAt = 0;
          const send = () => {
            if (performance.now() > deadline) return resolve();
            sentAt = performance.now();
            ws.send("hello");
          };
          ws.on("message", () => {
            rtts.push(performance.now() - sentAt);
            send();
          });
          send();
        }),
    ),
  );
  const after = await peer.stats();
  for (const ws of sockets) ws.terminate();
  rtts.sort((a, b) => a - b);
  return {
    perSec: rtts.length / durationSec,
    p50: percentile(rtts, 50),
    p99: percentile(rtts, 99),
    cpuUs: ((after.cpuMs - before.cpuMs) * 1000) / rtts.length,
  };
}

/** RSS the server grows by per idle open connection, KB. */
async function idleCost(peer: Peer): Promise<number> {
  const url = `${peer.url.replace("http:", "ws:")}/ws/echo`;
  const before = sampleProcess(peer.pid).rssMb;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < idleConnections; i += 50) sockets.push(...(await Promise.all(Array.from({ length: 50 }, () => open(url)))));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = sampleProcess(peer.pid).rssMb;
  for (const ws of sockets) ws.terminate();
  return ((after - before) * 1024) / idleConnections;
}

/** Sends 64 MB at a handler that does not read, for at most 10 s; the server's RSS growth, MB, and what got through. */
async function flood(peer: Peer) {
  const ws = await open(`${peer.url.replace("http:", "ws:")}/ws/lazy`);
  const watch = watchProcess(peer.pid, 50);
  const chunk = Buffer.alloc(floodMessageBytes, 120);
  for (let i = 0; i < floodMessages; i++) ws.send(chunk);
  const deadline = Date.now() + 10_000;
  while (ws.bufferedAmount > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const sentMb = (floodMessages * floodMessageBytes - ws.bufferedAmount) / 2 ** 20;
  const { idleRssMb, peakRssMb } = watch.stop();
  ws.terminate();
  return { growthMb: peakRssMb - idleRssMb, sentMb };
}

export async function websocket(context: BenchContext, durationSec: number): Promise<void> {
  const rows: Row[] = [];
  const results = new Map<string, { perSec: number; growthMb: number }>();
  for (const spec of specs()) {
    await withPeer(spec, async (peer) => {
      await echo(peer, 1);
      let best = await echo(peer, durationSec);
      for (let round = 1; round < context.rounds; round++) {
        const next = await echo(peer, durationSec);
        if (next.perSec > best.perSec) best = next;
      }
      const idleKb = await idleCost(peer);
      const flooded = await flood(peer);
      results.set(spec.name, { perSec: best.perSec, growthMb: flooded.growthMb });
      rows.push({
        server: spec.name,
        "echoes/s": fmt.int(best.perSec),
        "p50 ms": fmt.ms(best.p50),
        "p99 ms": fmt.ms(best.p99),
        "server CPU µs/echo": best.cpuUs.toFixed(1),
        "KB per idle connection": idleKb.toFixed(1),
        "64 MB flood, unread: RSS growth MB": flooded.growthMb.toFixed(1),
        "MB the client got out": flooded.sentMb.toFixed(1),
      });
    });
  }
  const base = results.get("ws on node:http")!.perSec;
  for (const row of rows) row[`vs ws`] = fmt.ratio(Number(row["echoes/s"]!.replace(/,/g, "")) / base);
  printTable(
    `websocket: ${connections} connections echoing in closed loop; ${idleConnections} idle; a flood into a handler that does not read`,
    rows,
    context.markdown,
  );
  const ours = results.get("Loopwise")!;
  context.target("websocket: echoes at least 60% of bare ws", ours.perSec >= 0.6 * base, `${fmt.int(ours.perSec)} vs ${fmt.int(base)} per s`);
  context.target(
    "websocket: a 64 MB flood into a handler that does not read grows the server by under 16 MB",
    ours.growthMb < 16,
    `${ours.growthMb.toFixed(1)} MB`,
  );
}
