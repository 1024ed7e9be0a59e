// Notices when the event loop is blocked and names what blocked it. The main thread ticks a
// heartbeat in shared memory and notes which request's code it is running, in its first
// synchronous stretch and after each await (request-note.ts); a watchdog thread reads both
// while the loop is stuck, and pauses the main thread through the inspector to see where on
// the stack it is (again, a few times at most, while a look finds none of the app's code). The
// running request is the culprit; the stack says where, or, when the pause cannot land, that
// the time goes to native code. With no request noted (a timer, a
// callback) a route handler found on the stack names the route. Per request: a few writes to
// shared memory, and three small promise hooks per promise (no async_hooks).
import { once } from "node:events";
import inspector from "node:inspector";
import { performance } from "node:perf_hooks";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { describeFrame, functionLocations } from "./function-location.js";
import { noteRunningRequests, type RequestNote, type RequestTag } from "./request-note.js";
import { nativeAfterMs, Slot, slotCount, type WatchdogData, type WatchdogSample } from "./shared-slots.js";

export type { RequestTag } from "./request-note.js";

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
  /** What to do about a block, when the lane rule's advice does not fit (a WebSocket handler, which always runs on the loop). */
  advice?: string;
}

export interface LoopMonitorOptions {
  /** A loop blocked at least this long is reported (default 100 ms). */
  thresholdMs?: number;
  /** Each route, by id. */
  routes: MonitoredRoute[];
  /** How the watchdog writes its own line about a loop still blocked; "none" below the log level. */
  format: "text" | "json" | "none";
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
  /** The monitor's number for the request whose code blocked, when the main thread had noted it. */
  requestId: number | undefined;
  /** Where the blocking code stood when the watchdog looked: "file:line (function)". */
  where: string | undefined;
  /** The time went to native code (JSON.parse, a synchronous crypto or fs call): no JavaScript statement ran. */
  native: boolean;
  /** Other requests that were in flight or arrived during the block, so had to wait for it. */
  waited: number;
}

export class LoopMonitor {
  readonly thresholdMs: number;
  private readonly slots = new Int32Array(new SharedArrayBuffer(slotCount * Int32Array.BYTES_PER_ELEMENT));
  private watchdog: Worker | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private readonly active = new Set<number>();
  private nextRequest = 1;
  private note: RequestNote | undefined;
  private started = 0;
  private readonly intervalMs: number;
  private lastBeat = 0;
  /** Block reports on their way (each waits a moment to count the requests that waited). */
  private readonly reports = new Set<Promise<void>>();
  /**
   * Where the watchdog sends what it found on the stack. Read as a block is reported: the
   * watchdog resumes the main thread before it posts, so on a starved machine the look can
   * arrive after the block has ended; a message event would come only after the report's timer.
   */
  private samples: MessagePort | undefined;
  /** Looks read from `samples`, by the heartbeat of their block, until that block is reported. */
  private readonly looks = new Map<number, WatchdogSample>();

  private constructor(private readonly options: LoopMonitorOptions) {
    this.thresholdMs = options.thresholdMs ?? 100;
    if (!(this.thresholdMs > 0)) throw new RangeError(`the loop-block threshold must be a positive number of ms, got ${this.thresholdMs}`);
    this.intervalMs = Math.max(1, Math.min(10, this.thresholdMs / 4));
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
    // Plain JavaScript: no loader flags, so it starts in milliseconds. "../monitor/": found from dist/chunks/ too.
    this.watchdog = new Worker(new URL("../monitor/watchdog.js", import.meta.url), {
      workerData: data,
      transferList: [channel.port2],
      name: "loopwise loop monitor",
      execArgv: [],
    });
    this.watchdog.unref();
    await once(this.watchdog, "online");
    this.note = noteRunningRequests(slots);

    this.lastBeat = performance.now();
    this.ticker = setInterval(() => this.beat(), this.intervalMs);
    this.ticker.unref();
  }

  /** One heartbeat: a gap since the last one as long as the threshold was a block, now over. */
  private beat(): void {
    const now = performance.now();
    const gap = now - this.lastBeat - this.intervalMs;
    this.lastBeat = now;
    if (gap >= this.thresholdMs) this.blockEnded(now - gap, gap);
    Atomics.add(this.slots, Slot.Heartbeat, 1);
  }

  /**
   * Resolves once every block so far has been reported: one that just ended is noticed now
   * rather than at the next heartbeat. For a test that fails on a block (TestClient's
   * `failOnBlock`): the request that blocked is answered before the heartbeat comes round.
   */
  async settle(): Promise<void> {
    if (this.ticker) this.beat();
    while (this.reports.size > 0) await Promise.all(this.reports);
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

  /** Runs `handle` as a new request; a block in its code, now or after an await, is pinned on it. */
  run<A, B>(handle: (tag: RequestTag, a: A, b: B) => void, a: A, b: B): void {
    const tag: RequestTag = { id: this.nextRequest++, route: 0 };
    if (this.nextRequest === 0x7fffffff) this.nextRequest = 1;
    this.started++;
    this.active.add(tag.id);
    this.note!.run(tag, handle, a, b);
  }

  /** The running request is routed: its code from now on is that route's. */
  routed(routeId: number): void {
    this.note!.routed(routeId);
  }

  finished(tag: RequestTag): void {
    this.active.delete(tag.id);
  }

  close(): void {
    clearInterval(this.ticker);
    this.note?.stop();
    Atomics.store(this.slots, Slot.Stop, 1);
    void this.watchdog?.terminate();
    this.samples?.close();
  }

  private blockEnded(startedAt: number, durationMs: number): void {
    const slots = this.slots;
    let culprit: LoopBlock["culprit"] = "unknown";
    let routeId: number | undefined;
    let requestId: number | undefined;
    let lookedAt = 0;
    // The heartbeat has not moved yet: it names this block in the watchdog's findings.
    const beat = Atomics.load(slots, Slot.Heartbeat);
    const caught = Atomics.load(slots, Slot.Caught) === ((beat + 1) | 0);
    if (caught) {
      const route = Atomics.load(slots, Slot.CaughtRoute);
      const request = Atomics.load(slots, Slot.CaughtRequest);
      lookedAt = Atomics.load(slots, Slot.CaughtLookedAt);
      if (Atomics.load(slots, Slot.CaughtMixed) === 1) culprit = "many";
      else if (route > 0) {
        culprit = "request";
        routeId = route - 1;
        requestId = request > 0 ? request : undefined;
      } else culprit = request !== 0 ? "request" : "outside";
    }
    // Requests that arrived during the block sit in the kernel until the loop reads them, a
    // loop turn or two from now; count them a moment later, and a few turns later (on a loaded
    // machine the moment may pass before the loop has turned at all).
    const inFlight = this.active.size - (requestId !== undefined && this.active.has(requestId) ? 1 : 0);
    const startedBefore = this.started;
    const report = new Promise<void>((delivered) => {
      afterTurns(4, 20, () => {
        this.reports.delete(report);
        try {
          const sample = this.lookAt(beat);
          // A look asked for long before the block ended that never landed: no statement ran since.
          const native = sample ? sample.native : lookedAt > 0 && durationMs - lookedAt > nativeAfterMs(this.thresholdMs);
          this.options.onBlock({
            start: performance.timeOrigin + startedAt,
            durationMs,
            culprit,
            routeId,
            requestId,
            where: caught && sample?.frame ? describeFrame(sample.frame) : undefined,
            native: caught && native,
            waited: inFlight + (this.started - startedBefore),
          });
        } finally {
          delivered();
        }
      });
    });
    this.reports.add(report);
  }

  /**
   * The watchdog's look at the stack during the block at heartbeat `beat`: the last that saw the
   * culprit's code, if one did. Looks of later blocks wait for their own report; a few are kept.
   */
  private lookAt(beat: number): WatchdogSample | undefined {
    for (let next = receiveMessageOnPort(this.samples!); next; next = receiveMessageOnPort(this.samples!)) {
      const look = next.message as WatchdogSample;
      const kept = this.looks.get(look.beat);
      // A look that found no place keeps what an earlier one found: that the time went to native code.
      if (look.frame !== undefined) this.looks.set(look.beat, look);
      else if (kept?.frame === undefined) this.looks.set(look.beat, { ...look, native: look.native || kept?.native === true });
    }
    const look = this.looks.get(beat);
    this.looks.delete(beat);
    // Looks no report asked for (their block was judged shorter than the threshold): the oldest go.
    for (const old of this.looks.keys()) if (this.looks.size > 8) this.looks.delete(old);
    return look;
  }
}

/** Calls `then` once `ms` have passed and the loop has turned `turns` times since. */
function afterTurns(turns: number, ms: number, then: () => void): void {
  const turn = (left: number) => (left === 0 ? then() : setImmediate(() => turn(left - 1)));
  setTimeout(() => turn(turns), ms).unref();
}
