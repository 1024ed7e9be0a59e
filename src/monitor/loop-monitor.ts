// Notices when the event loop is blocked and names what blocked it. The main thread ticks a
// heartbeat in shared memory and notes which request's synchronous code it is running; a
// watchdog thread reads both while the loop is stuck. When the note is empty (the block came
// after an await, or from a timer) the watchdog pauses the main thread once through the
// inspector and finds the route handler on its stack. Nothing is paid per request but two
// writes to shared memory: no async hooks, no promise hooks.
import { once } from "node:events";
import inspector from "node:inspector";
import { performance } from "node:perf_hooks";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { describeFrame, functionLocations } from "./function-location.js";
import { Slot, slotCount, type WatchdogData, type WatchdogSample } from "./shared-slots.js";

export interface MonitoredRoute {
  /** "GET /async/sleep" */
  label: string;
  /** Where its handler runs. */
  lane: "loop" | "worker";
  /** Whether the handler is declared async (so the loop is its natural lane). */
  declaredAsync: boolean;
  handler: Function;
  /** Functions of its dependencies, so a block inside one is pinned on the route too. */
  dependencies: Function[];
}

export interface LoopMonitorOptions {
  /** A loop blocked at least this long is reported (default 100 ms). */
  thresholdMs?: number;
  /** Each route, by id. */
  routes: MonitoredRoute[];
  format: "text" | "json";
  onBlock: (block: LoopBlock) => void;
}

/** One stretch of time during which the event loop ran nothing else. */
export interface LoopBlock {
  /** Epoch ms when the block began. */
  start: number;
  durationMs: number;
  /** What was running: a route's code, code outside any request, many callbacks in a row, or unknown. */
  culprit: "request" | "outside" | "many" | "unknown";
  /** Route id whose code blocked, when culprit is "request". */
  routeId: number | undefined;
  /** The monitor's number for the request, when the block was in its first synchronous stretch. */
  requestId: number | undefined;
  /** Where the code stood when it was sampled after an await or in a callback: "file:line (function)". */
  where: string | undefined;
  /** Other requests that were in flight or arrived during the block, so had to wait for it. */
  waited: number;
}

/** What the monitor knows about a request while it is handled. */
export interface RequestTag {
  readonly id: number;
}

export class LoopMonitor {
  readonly thresholdMs: number;
  private readonly slots = new Int32Array(new SharedArrayBuffer(slotCount * Int32Array.BYTES_PER_ELEMENT));
  private watchdog: Worker | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private readonly active = new Set<number>();
  private nextRequest = 1;
  private started = 0;
  /**
   * Where the watchdog sends what it found on the stack. Read synchronously when a block ends:
   * a message event would come only after the timer that reports the block.
   */
  private samples: MessagePort | undefined;

  private constructor(private readonly options: LoopMonitorOptions) {
    this.thresholdMs = options.thresholdMs ?? 100;
    if (!(this.thresholdMs > 0)) throw new RangeError(`the loop-block threshold must be a positive number of ms, got ${this.thresholdMs}`);
  }

  /** Starts the watchdog and the heartbeat; resolves once blocks can be sampled. */
  static async start(options: LoopMonitorOptions): Promise<LoopMonitor> {
    const monitor = new LoopMonitor(options);
    await monitor.begin();
    return monitor;
  }

  private async begin(): Promise<void> {
    const slots = this.slots;
    const channel = new MessageChannel();
    this.samples = channel.port1;
    const data: WatchdogData = {
      samples: channel.port2,
      // Under a debugger (--inspect) our pauses would fight the developer's: no stack sampling then.
      sampleStacks: inspector.url() === undefined,
      buffer: slots.buffer as SharedArrayBuffer,
      thresholdMs: this.thresholdMs,
      stuckAfterMs: Math.max(1000, this.thresholdMs * 5),
      routeLabels: this.options.routes.map((route) => route.label),
      ...(await this.locateCode()),
      format: this.options.format,
    };
    // Plain JavaScript: no loader flags, so it starts in milliseconds.
    this.watchdog = new Worker(new URL("./watchdog.js", import.meta.url), {
      workerData: data,
      transferList: [channel.port2],
      name: "loopwise loop monitor",
      execArgv: [],
    });
    this.watchdog.unref();
    await once(this.watchdog, "online");

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

  /**
   * Where each route's code is defined, for the watchdog to recognise on a stack. A dependency
   * shared by several routes names no single route: it maps to -1, "some request".
   */
  private async locateCode(): Promise<Pick<WatchdogData, "codeLocations" | "codeRoutes">> {
    const owners = new Map<Function, number>();
    this.options.routes.forEach((route, id) => {
      owners.set(route.handler, owners.has(route.handler) ? -1 : id);
      for (const fn of route.dependencies) owners.set(fn, owners.has(fn) && owners.get(fn) !== id ? -1 : id);
    });
    const functions = [...owners.keys()];
    return { codeLocations: await functionLocations(functions), codeRoutes: functions.map((fn) => owners.get(fn)!) };
  }

  /** Runs `handle` as a new request; a block in its synchronous part is pinned on it. */
  run<A, B>(handle: (tag: RequestTag, a: A, b: B) => void, a: A, b: B): void {
    const tag: RequestTag = { id: this.nextRequest++ };
    if (this.nextRequest === 0x7fffffff) this.nextRequest = 1;
    this.started++;
    this.active.add(tag.id);
    this.slots[Slot.Request] = tag.id;
    try {
      handle(tag, a, b);
    } finally {
      this.slots[Slot.Route] = 0;
      this.slots[Slot.Request] = 0;
    }
  }

  /** The request is routed: its code from now on is that route's. */
  routed(routeId: number): void {
    this.slots[Slot.Route] = routeId + 1;
  }

  finished(tag: RequestTag): void {
    this.active.delete(tag.id);
  }

  close(): void {
    clearInterval(this.ticker);
    Atomics.store(this.slots, Slot.Stop, 1);
    void this.watchdog?.terminate();
    this.samples?.close();
  }

  private blockEnded(startedAt: number, durationMs: number): void {
    const slots = this.slots;
    let culprit: LoopBlock["culprit"] = "unknown";
    let routeId: number | undefined;
    let requestId: number | undefined;
    let where: string | undefined;
    // The watchdog posts its sample before it marks the block caught; older samples are stale.
    let sample: WatchdogSample | undefined;
    for (let next = receiveMessageOnPort(this.samples!); next; next = receiveMessageOnPort(this.samples!)) {
      sample = next.message as WatchdogSample;
    }
    if (Atomics.load(slots, Slot.Caught) === 1) {
      const route = Atomics.load(slots, Slot.CaughtRoute);
      const request = Atomics.load(slots, Slot.CaughtRequest);
      where = sample?.frame && describeFrame(sample.frame);
      if (Atomics.load(slots, Slot.CaughtMixed) === 1) culprit = "many";
      else if (route > 0) {
        culprit = "request";
        routeId = route - 1;
        requestId = request > 0 ? request : undefined;
      } else culprit = request !== 0 ? "request" : "outside";
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
        where,
        waited: inFlight + (this.started - startedBefore),
      });
    }, 20);
    report.unref();
  }
}
