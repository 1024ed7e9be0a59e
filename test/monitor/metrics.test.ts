// /metrics in Prometheus text format: requests by route and lane, queue wait, pool, blocks, refusals.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fixture, request, spawnServer } from "../helpers.ts";

function value(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  assert.ok(
    line,
    `no series ${series} in:\n${text
      .split("\n")
      .filter((l) => l.startsWith("loopwise"))
      .join("\n")}`,
  );
  return Number(line.split(" ").at(-1));
}

test("metrics count requests per route and lane, loop blocks by route, and read the pool", async () => {
  const server = await spawnServer(`${fixture("monitor-app.ts")}:app`, ["--pool-size", "2", "--metrics"]);
  try {
    await Promise.all([request(server.url + "/hello"), request(server.url + "/hello"), request(server.url + "/worker/block")]);
    await request(server.url + "/block/200");
    await request(server.url + "/nope");
    await new Promise((resolve) => setTimeout(resolve, 200)); // the block is reported a moment after it ends

    const reply = await request(server.url + "/metrics");
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers["content-type"]), /text\/plain/);
    const text = reply.text;
    assert.equal(value(text, 'loopwise_requests_total{method="GET",route="/hello",lane="loop",status="200"}'), 2);
    assert.equal(value(text, 'loopwise_requests_total{method="GET",route="/worker/block",lane="worker",status="200"}'), 1);
    assert.equal(value(text, 'loopwise_requests_total{method="GET",route="(unmatched)",lane="loop",status="404"}'), 1);
    assert.equal(value(text, 'loopwise_queue_wait_seconds_count{route="/worker/block"}'), 1);
    assert.equal(value(text, 'loopwise_loop_blocks_total{route="GET /block/:ms"}'), 1);
    assert.ok(value(text, 'loopwise_loop_blocked_seconds_total{route="GET /block/:ms"}') >= 0.15);
    assert.equal(value(text, "loopwise_pool_workers"), 2);
    assert.equal(value(text, "loopwise_pool_queue_depth"), 0);
    assert.ok(value(text, "nodejs_eventloop_lag_p99_seconds") >= 0);
  } finally {
    await server.stop();
  }
});
