// The AbortSignal a cancellable task gets inside its worker (worker side only).

/** On a task's signal: what reading it needs to look at the shared abort mark. */
const taskKey = Symbol("loopwise.task-signal");

interface TaskOfSignal {
  controller: AbortController;
  abortMark: Int32Array;
  id: number;
}

let installed = false;

/**
 * A plain handler runs synchronously, so the main thread's "abort" message cannot reach its
 * thread until it returns. So in a worker, reading `signal.aborted` (or calling
 * `throwIfAborted()`) on a task's signal also reads the shared abort mark the main thread sets at
 * once, and fires the signal first if the mark names the task. It is done once on the
 * prototype, in worker threads only: patching each signal cost more than a trivial task.
 */
function install(): void {
  installed = true;
  const prototype = AbortSignal.prototype;
  const aborted = Object.getOwnPropertyDescriptor(prototype, "aborted")!.get!;
  const throwIfAborted = prototype.throwIfAborted;
  const look = (signal: AbortSignal) => {
    const task = (signal as AbortSignal & { [taskKey]?: TaskOfSignal })[taskKey];
    if (task && !aborted.call(signal) && Atomics.load(task.abortMark, 1) === task.id) task.controller.abort();
  };
  Object.defineProperty(prototype, "aborted", {
    configurable: true,
    enumerable: true,
    get(this: AbortSignal) {
      look(this);
      return aborted.call(this) as boolean;
    },
  });
  prototype.throwIfAborted = function (this: AbortSignal) {
    look(this);
    throwIfAborted.call(this);
  };
}

/**
 * The signal of task `id`: it fires when the main thread's "abort" message arrives (an async
 * handler hears it at its next await), and a plain handler that reads it sees the abort at once.
 *
 *     while (!signal.aborted) doSomeWork(); // stops within one step of the caller cancelling
 */
export function taskSignal(controller: AbortController, abortMark: Int32Array, id: number): AbortSignal {
  if (!installed) install();
  const signal = controller.signal as AbortSignal & { [taskKey]?: TaskOfSignal };
  signal[taskKey] = { controller, abortMark, id };
  return signal;
}
