// The live lanes page's data: every finished request, every loop block, and a few samples a
// second of queue depth and loop delay, pushed to open pages over Server-Sent Events. Recent
// events are kept, so a page opened after the fact still shows what just happened.
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";

export type LiveEvent =
  /** A request was read; the page shows it as in flight until its "request" event. */
  | { type: "start"; id: number; method: string; target: string; start: number }
  | {
      type: "request";
      id: number;
      method: string;
      target: string;
      route: string | null;
      lane: string;
      /** Epoch ms when the request was read. */
      start: number;
      queuedMs: number | null;
      durationMs: number;
      status: number;
    }
  | { type: "block"; start: number; durationMs: number; route: string | null; culprit: string; message: string }
  /** `workers`: the pool's size then (it grows while work waits on blocked workers, and shrinks after idle). */
  | { type: "sample"; time: number; queued: number; busy: number; workers: number; loopDelayMs: number };

export interface LivePool {
  readonly size: number;
  readonly busy: number;
  readonly queued: number;
}

const keptEvents = 2000;
const sampleEveryMs = 250;
/** A minute of samples. */
const keptSamples = 240;
const page = readFileSync(new URL("../../src/monitor/live-page.html", import.meta.url), "utf8");

export class LiveFeed {
  private readonly recent: string[] = [];
  private readonly samples: string[] = [];
  private readonly clients = new Set<ServerResponse>();
  private readonly delay = monitorEventLoopDelay({ resolution: 10 });
  private readonly sampler: NodeJS.Timeout;
  private readonly ids = new WeakMap<IncomingMessage, number>();
  private nextId = 1;

  constructor(private readonly pool: LivePool) {
    this.delay.enable();
    this.sampler = setInterval(() => this.sample(), sampleEveryMs);
    this.sampler.unref();
  }

  /** A request was read: shown in flight, under a number its "request" event repeats. */
  started(req: IncomingMessage, start: number): void {
    const id = this.nextId++;
    this.ids.set(req, id);
    this.publish({ type: "start", id, method: req.method ?? "", target: req.url ?? "", start });
  }

  /** The number `started` gave this request. */
  idOf(req: IncomingMessage): number {
    return this.ids.get(req) ?? 0;
  }

  publish(event: LiveEvent): void {
    const data = `data: ${JSON.stringify(event)}\n\n`;
    const kept = event.type === "sample" ? this.samples : this.recent;
    kept.push(data);
    if (kept.length > (event.type === "sample" ? keptSamples : keptEvents)) kept.shift();
    for (const client of this.clients) client.write(data);
  }

  /** Answers GET /_loopwise (the page) and GET /_loopwise/events (the stream); false for other paths. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.url === "/_loopwise" || req.url === "/_loopwise/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(page);
      return true;
    }
    if (req.url !== "/_loopwise/events") return false;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    res.write(`data: ${JSON.stringify({ type: "hello", now: Date.now(), workers: this.pool.size })}\n\n`);
    for (const data of this.samples) res.write(data);
    for (const data of this.recent) res.write(data);
    this.clients.add(res);
    res.on("close", () => this.clients.delete(res));
    return true;
  }

  /** Ends every open stream (shutdown must not wait for pages left open). */
  close(): void {
    clearInterval(this.sampler);
    this.delay.disable();
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  private sample(): void {
    const loopDelayMs = this.delay.max / 1e6;
    this.delay.reset();
    this.publish({ type: "sample", time: Date.now(), queued: this.pool.queued, busy: this.pool.busy, workers: this.pool.size, loopDelayMs });
  }
}
