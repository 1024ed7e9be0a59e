// The queue lane's figures on the server's /metrics, by route: how many of this server's requests
// wait for a worker process (summed over servers, the queue's depth by route), how long they
// waited, how long the workers ran them; and the queue's jobs by state, read from Redis.
import { Gauge, Histogram, type Registry } from "prom-client";
import type { QueueLane } from "./queue-lane.js";

const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const states = ["waiting", "prioritized", "delayed", "active", "completed", "failed"] as const;

export function registerQueueMetrics(lane: QueueLane, registry: Registry): void {
  const registers = [registry];
  new Gauge({
    name: "loopwise_queue_lane_depth",
    help: "Queue-lane requests of this server waiting for a worker process to take their job, by route.",
    labelNames: ["method", "route"],
    registers,
    collect() {
      this.reset();
      for (const [route, count] of lane.waitingByRoute()) this.set(labelsOf(route), count);
    },
  });
  const wait = new Histogram({
    name: "loopwise_queue_lane_wait_seconds",
    help: "Time a queue-lane request spent outside its handler: in Redis, waiting for a worker process, and the trips both ways.",
    labelNames: ["method", "route"],
    buckets,
    registers,
  });
  const run = new Histogram({
    name: "loopwise_queue_lane_run_seconds",
    help: "Time a worker process spent on a queue-lane request, by route.",
    labelNames: ["method", "route"],
    buckets,
    registers,
  });
  lane.onAnswered = (route, waitMs, runMs) => {
    wait.observe(labelsOf(route), waitMs / 1000);
    run.observe(labelsOf(route), runMs / 1000);
  };
  new Gauge({
    name: "loopwise_queue_jobs",
    help: "Jobs in the queue by state, route jobs and durable jobs of every server together (read from Redis).",
    labelNames: ["state"],
    registers,
    async collect() {
      try {
        const counts = await lane.queue.getJobCounts(...states);
        for (const state of states) this.set({ state }, counts[state] ?? 0);
      } catch {
        // Redis is down: the figures are left out rather than failing the scrape.
        this.reset();
      }
    },
  });
}

/** "GET /render" → the labels the other metrics use: the method, and the route's pattern. */
function labelsOf(route: string): { method: string; route: string } {
  const space = route.indexOf(" ");
  return { method: route.slice(0, space), route: route.slice(space + 1) };
}
