// Scenario `tracing`: what OpenTelemetry costs. Loopwise depends on @opentelemetry/api alone, and
// makes no span without an SDK: its only work per request is a look in the API's global registry.
// Rows: the same app with no SDK, and with NodeSDK started by `--import` (the standard way)
// exporting every span over OTLP/HTTP to a receiver in this process, on the loop and worker lanes;
// then what the checks made without an SDK cost per request, measured in a loop of a million.
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import type { BenchContext } from "../lib/context.ts";
import { closedLoop, type Throughput } from "../lib/load.ts";
import { peers, withPeer } from "../lib/peer.ts";
import { fmt, printTable, type Row } from "../lib/table.ts";

const durationSec = Number(process.env.BENCH_DURATION ?? 5);
const connections = 32;
const setup = fileURLToPath(new URL("../../test/fixtures/otel-setup.mjs", import.meta.url));

export async function tracing(context: BenchContext): Promise<void> {
  let spansReceived = 0;
  const receiver = createServer((req, res) => {
    req.on("data", () => {});
    req.on("end", () => {
      spansReceived++;
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  const withSdk = {
    ...peers.loopwise("Loopwise + NodeSDK (OTLP)"),
    env: {
      NODE_OPTIONS: `--import ${setup}`,
      OTEL_TRACES_EXPORTER: "otlp",
      OTEL_METRICS_EXPORTER: "none",
      OTEL_LOGS_EXPORTER: "none",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    },
  };
  const rows: Row[] = [];
  try {
    for (const spec of [peers.loopwise("Loopwise, no SDK"), withSdk]) {
      const best = new Map<string, Throughput>();
      await withPeer(spec, async (peer) => {
        for (let round = 0; round < context.rounds; round++) {
          for (const path of ["/hello", "/trivial"]) {
            const url = `${peer.url}${path}`;
            await closedLoop({ url, connections, durationSec: 1 });
            const before = await peer.stats();
            const result = await closedLoop({ url, connections, durationSec });
            const after = await peer.stats();
            result.cpuUsPerRequest = ((after.cpuMs - before.cpuMs) * 1000) / result.total;
            const previous = best.get(path);
            if (!previous || result.reqPerSec > previous.reqPerSec) best.set(path, result);
          }
        }
      });
      for (const [path, r] of best) {
        rows.push({
          server: spec.name,
          route: `${path} (${path === "/hello" ? "loop" : "worker"})`,
          "req/s": fmt.int(r.reqPerSec),
          "p99 ms": fmt.ms(r.p99Ms),
          "server CPU µs/req": r.cpuUsPerRequest!.toFixed(1),
        });
      }
    }
  } finally {
    receiver.close();
  }
  printTable(`(t) OpenTelemetry: no SDK vs NodeSDK exporting every span, ${connections} connections, ${durationSec} s`, rows, context.markdown);
  console.log(`    OTLP export requests received from the traced server: ${spansReceived}`);
  printTable("(t2) What a request pays for tracing without an SDK (the checks alone, a million times)", await checksWithoutSdk(), context.markdown);
}

/** The per-request checks with no SDK registered, timed in this process (which has none). */
async function checksWithoutSdk(): Promise<Row[]> {
  const { activeTracer } = await import("../../src/tracing/tracer.ts");
  const { captureContext } = await import("../../src/threads/context-var.ts");
  const time = (what: string, perRequest: number, fn: () => unknown): Row => {
    for (let i = 0; i < 100_000; i++) fn();
    const start = process.hrtime.bigint();
    for (let i = 0; i < 1_000_000; i++) fn();
    const ns = Number(process.hrtime.bigint() - start) / 1_000_000;
    return { check: what, "ns each": ns.toFixed(1), "per request": String(perRequest) };
  };
  return [
    time("activeTracer(): is an SDK registered?", 2, () => activeTracer()),
    time("captureContext() with no context variable (per task sent to a worker)", 1, () => captureContext()),
  ];
}
