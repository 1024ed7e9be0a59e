// Notices when the event loop is blocked and names what blocked it. The main thread ticks a
// heartbeat in shared memory and records, through AsyncLocalStorage, which request's code it is
// running (after every await too); a watchdog thread samples that record while the loop is stuck.
import { AsyncLocalStorage, createHook } from "node:async_hooks";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { Slot, slotCount, type WatchdogData } from "./shared-slots.js";

export interface LoopMonitorOptions {
  /** A loop blocked at least this long is reported (default 100 ms). */
  thresholdMs?: number;
  /** Each route, by id, as the warnings describe it. */
  routes: MonitoredRoute[];
  format: "text" | "json";
  onBlock: (block: LoopBlock) => void;
}

export interface MonitoredRoute {
  /** "GET /async/sleep" */
  label: string;
  /** Where its handler runs. */
  lane: "loop" | "worker";
  /** Whether the handler is declared async (so the loop is its natural lane). */
  declaredAsync: boolean;
}

/** One stretch of time during which the event loop ran nothing else. */
export interface LoopBlock {
  /** Epoch ms when the block began. */
  start: number;
  durationMs: number;
  /** What was running: one request's code, code outside any request, many callbacks in a row, or unknown. */
  culprit: "request" | "outside" | "many" | "unknown";
  /** Route id whose code blocked, when culprit is "request". */
  routeId: number | undefined;
  /** The number the monitor gave that request (see RequestTag.id). */
  requestId: number | undefined;
  /** Other requests that were in flight or arrived during the block, so had to wait for it. */
  waited: number;
}

/** What the monitor knows about a request while it is handled. */
export interface RequestTag {
  readonly id: number;
  /** Set once the request is routed; -1 before. */
  routeId: number;
}

export class LoopMonitor {
  readonly thresholdMs: number;
  private readonly slots = new Int32Array(new SharedArrayBuffer(slotCount * Int32Array.BYTES_PER_ELEMENT));
  private readonly storage = new AsyncLocalStorage<RequestTag>();
  private readonly watchdog: Worker;
  private readonly ticker: NodeJS.Timeout;
  private readonly hook: ReturnType<typeof createHook>;
  private readonly active = new Set<number>();
  private nextRequest = 1;
  private started = 0;

  constructor(private readonly options: LoopMonitorOptions) {
    this.thresholdMs = options.thresholdMs ?? 100;
    if (!(this.thresholdMs > 0)) throw new RangeError(`the loop-block threshold must be a positive number of ms, got ${this.thresholdMs}`);
    const slots = this.slots;
    const storage = this.storage;
    // Every callback and promise continuation re-tags the slot with its own request, so a block
    // after an await is pinned on the request whose code resumed, not the last one that arrived.
    this.hook = createHook({
      before() {
        const tag = storage.getStore();
        slots[Slot.Route] = tag ? tag.routeId + 1 : 0;
        slots[Slot.Request] = tag ? tag.id : 0;
      },
      after() {
        slots[Slot.Route] = 0;
        slots[Slot.Request] = 0;
      },
    }).enable();

    const data: WatchdogData = {
      buffer: this.slots.buffer as SharedArrayBuffer,
      thresholdMs: this.thresholdMs,
      stuckAfterMs: Math.max(1000, this.thresholdMs * 5),
      routeLabels: options.routes.map((route) => route.label),
      format: options.format,
    };
    this.watchdog = new Worker(new URL("./watchdog.js", import.meta.url), { workerData: data, name: "loopwise loop monitor" });
    this.watchdog.unref();

    const intervalMs = Math.max(1, Math.min(10, this.thresholdMs / 4));
    let last = performance.now();
    this.ticker = setInterval(() => {
      const now = performance.now();
      const gap = now - last - intervalMs;
      last = now;
      if (gap >= this.thresholdMs) this.blockEnded(now - gap, gap);
      Atomics.store(slots, Slot.Caught, 0);
      Atomics.add(slots, Slot.Heartbeat, 1);
    }, intervalMs);
    this.ticker.unref();
  }

  /** Runs `handle` as a new request: its code, and everything it awaits, is tagged with it. */
  run<T>(handle: (tag: RequestTag) => T): T {
    const tag: RequestTag = { id: this.nextRequest++, routeId: -1 };
    if (this.nextRequest === 0x7fffffff) this.nextRequest = 1;
    this.started++;
    this.active.add(tag.id);
    this.slots[Slot.Request] = tag.id;
    try {
      return this.storage.run(tag, handle, tag);
    } finally {
      this.slots[Slot.Route] = 0;
      this.slots[Slot.Request] = 0;
    }
  }

  /** The request is routed: its code from now on is that route's. */
  routed(tag: RequestTag, routeId: number): void {
    tag.routeId = routeId;
    this.slots[Slot.Route] = routeId + 1;
  }

  finished(tag: RequestTag): void {
    this.active.delete(tag.id);
  }

  close(): void {
    clearInterval(this.ticker);
    this.hook.disable();
    Atomics.store(this.slots, Slot.Stop, 1);
    Atomics.notify(this.slots, Slot.Stop);
    void this.watchdog.terminate();
  }

  private blockEnded(startedAt: number, durationMs: number): void {
    const slots = this.slots;
    let culprit: LoopBlock["culprit"] = "unknown";
    let routeId: number | undefined;
    let requestId: number | undefined;
    if (Atomics.load(slots, Slot.Caught) === 1) {
      const route = Atomics.load(slots, Slot.CaughtRoute);
      const request = Atomics.load(slots, Slot.CaughtRequest);
      if (Atomics.load(slots, Slot.CaughtMixed) === 1) culprit = "many";
      else if (request === 0) culprit = "outside";
      else {
        culprit = "request";
        requestId = request;
        routeId = route > 0 ? route - 1 : undefined;
      }
    }
    // Requests that arrived during the block sit in the kernel until the loop reads them, a
    // loop turn or two from now; count them a moment later.
    const inFlight = this.active.size - (requestId !== undefined && this.active.has(requestId) ? 1 : 0);
    const startedBefore = this.started;
    const report = setTimeout(() => {
      this.options.onBlock({
        start: performance.timeOrigin + startedAt,
        durationMs,
        culprit,
        routeId,
        requestId,
        waited: inFlight + (this.started - startedBefore),
      });
    }, 20);
    report.unref();
  }
}
