// A local OTLP/HTTP receiver for the tracing tests: it takes what the OpenTelemetry SDK exports
// (JSON, as OTEL_EXPORTER_OTLP_PROTOCOL=http/json sends it) and keeps every span, from every
// process and thread that exports to it.
import { createServer, type Server } from "node:http";

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, string | number | boolean>;
  status: { code?: number; message?: string };
  /** The exporting process's pid. */
  pid: number | undefined;
  /** The instrumentation scope (tracer) that made it: "loopwise", "@opentelemetry/instrumentation-http", the app's. */
  scope: string;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };

export interface OtlpReceiver {
  /** http://127.0.0.1:PORT: OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  spans: ReceivedSpan[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.url === "/v1/traces") {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        for (const resource of body.resourceSpans ?? []) {
          const pid = attributesOf(resource.resource?.attributes ?? [])["process.pid"] as number | undefined;
          for (const scope of resource.scopeSpans ?? []) {
            for (const span of scope.spans ?? [])
              spans.push({
                ...span,
                attributes: attributesOf(span.attributes ?? []),
                status: span.status ?? {},
                pid,
                scope: scope.scope?.name ?? "",
              });
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function attributesOf(list: { key: string; value: AnyValue }[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list) {
    out[key] = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.doubleValue ?? value.boolValue ?? ""));
  }
  return out;
}

/** The environment that points the SDK (started by test/fixtures/otel-setup.mjs) at `receiver`. */
export function otelEnv(
  receiver: OtlpReceiver,
  serviceName: string,
  setup = new URL("./fixtures/otel-setup.mjs", import.meta.url),
): Record<string, string> {
  return {
    NODE_OPTIONS: `--import ${setup.pathname}`,
    OTEL_SERVICE_NAME: serviceName,
    OTEL_TRACES_EXPORTER: "otlp",
    OTEL_METRICS_EXPORTER: "none",
    OTEL_LOGS_EXPORTER: "none",
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    // Exported within a tenth of a second, so a test waits little for its spans.
    OTEL_BSP_SCHEDULE_DELAY: "100",
  };
}
