// The main thread's note of which request's code it is running, kept in the shared slots for
// the watchdog. A request's first synchronous stretch is noted by `run`; the code that resumes
// after each of its awaits is noted by V8 promise hooks: a promise made while a request's code
// runs carries that request, and when a reaction to it runs (an await resuming, a .then
// callback) the note names it again until the reaction ends. So a block after an await, in a
// helper the handler awaits, or in native code it calls, is pinned on the request that ran it.
//
// Why V8's promise hooks and not AsyncLocalStorage: on Node 20 and 22 AsyncLocalStorage rides on
// async_hooks, which cost the hello route about 8% more CPU per request; these three hooks add
// 35-40 ns per await, lost in the noise on hello (README, Performance). And AsyncLocalStorage
// only answers when asked, on the main thread: the watchdog needs the note written down before a
// block starts, since a thread stuck in native code answers nothing. Callbacks that are not
// promise reactions (a setTimeout callback, an EventEmitter listener) are not followed; a block
// there is found on the stack, by location.
import { promiseHooks } from "node:v8";
import { Slot } from "./shared-slots.js";

/** What the monitor knows about a request while it is handled. */
export interface RequestTag {
  /** The monitor's number for the request (never 0). */
  readonly id: number;
  /** Route id + 1 once routed, 0 before. */
  route: number;
}

export interface RequestNote {
  /** Runs `handle` as the code of `tag`: the note names it, and promises made here carry it. */
  run<A, B>(tag: RequestTag, handle: (tag: RequestTag, a: A, b: B) => void, a: A, b: B): void;
  /** The running request is routed: its code from now on is that route's. */
  routed(routeId: number): void;
  /** Removes the hooks; promises made before keep their tag, harmlessly. */
  stop(): void;
}

export function noteRunningRequests(slots: Int32Array): RequestNote {
  // A symbol of this monitor's own: several servers in one process each keep their own note.
  const tagOf = Symbol("loopwise.request");
  type Tagged = Promise<unknown> & { [tagOf]?: RequestTag };
  let current: RequestTag | undefined;

  const note = (tag: RequestTag | undefined) => {
    current = tag;
    slots[Slot.Route] = tag === undefined ? 0 : tag.route;
    slots[Slot.Request] = tag === undefined ? 0 : tag.id;
  };
  // Each hook is as short as it can be: they run for every promise of the process.
  const stop = promiseHooks.createHook({
    init(promise) {
      if (current !== undefined) (promise as Tagged)[tagOf] = current;
    },
    before(promise) {
      const tag = (promise as Tagged)[tagOf];
      if (tag !== undefined) note(tag);
    },
    after() {
      if (current !== undefined) note(undefined);
    },
  }) as () => void;

  return {
    run(tag, handle, a, b) {
      const outer = current;
      note(tag);
      try {
        handle(tag, a, b);
      } finally {
        note(outer);
      }
    },
    routed(routeId) {
      if (current === undefined) return;
      current.route = routeId + 1;
      slots[Slot.Route] = current.route;
    },
    stop,
  };
}
