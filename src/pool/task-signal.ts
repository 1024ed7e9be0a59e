// The AbortSignal a cancellable task gets inside its worker (worker side only).

const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted")!.get!;

/**
 * The signal of task `id`. A plain handler runs synchronously, so the main thread's "abort"
 * message cannot reach its thread until it returns: reading `signal.aborted` (or calling
 * `throwIfAborted()`) also reads the shared abort mark the main thread sets at once, and fires
 * the signal first if the mark names this task. An async handler hears the "abort" event at
 * its next await, when the message arrives.
 *
 *     while (!signal.aborted) doSomeWork(); // stops within one step of the client leaving
 */
export function taskSignal(controller: AbortController, abortMark: Int32Array, id: number): AbortSignal {
  const signal = controller.signal;
  const check = () => {
    if (!abortedGetter.call(signal) && Atomics.load(abortMark, 1) === id) controller.abort();
  };
  Object.defineProperty(signal, "aborted", {
    configurable: true,
    get: () => {
      check();
      return abortedGetter.call(signal) as boolean;
    },
  });
  const throwIfAborted = signal.throwIfAborted;
  signal.throwIfAborted = () => {
    check();
    throwIfAborted.call(signal);
  };
  return signal;
}
