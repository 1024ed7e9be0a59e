// A provider in OpenTelemetry's global registry that throws when asked for a tracer (a broken
// SDK, or an app that wrote there by mistake): the requests are answered, with no spans.
import assert from "node:assert/strict";
import { test } from "node:test";
import { serve } from "loopwise";
import { app } from "../fixtures/guard-app.ts";

test("a provider that throws when asked for a tracer fails no request", async () => {
  (globalThis as Record<symbol, unknown>)[Symbol.for("opentelemetry.js.api.1")] = {
    version: "1.9.0",
    trace: {
      getDelegateTracer() {
        throw new Error("a broken SDK");
      },
    },
  };
  const server = await serve(app, { port: 0, poolSize: 1, accessLog: false, logLevel: "error" });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${server.url}/hello`)).status, 200);
  } finally {
    await server.close();
  }
});
