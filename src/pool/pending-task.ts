// A task as the pool keeps it while it waits or runs: what the policy decides by, and what the
// pool needs to send it and answer its caller.
import type { CancelSignal } from "./pool-options.js";
import type { PolicyTask } from "./policy/policy.js";
import type { Target } from "./policy/speed.js";
import type { Instant } from "./policy/time.js";

export interface PendingTask extends PolicyTask {
  readonly kind: number;
  readonly payload: unknown;
  /** The caller's cancel signal and the listener the pool added to it, when it gave one. */
  readonly signal: CancelSignal | undefined;
  onAbort: (() => void) | undefined;
  readonly context: unknown;
  timer: NodeJS.Timeout | undefined;
  resolve: (outcome: never) => void;
  reject: (error: Error) => void;
}

export function pendingTask(
  id: number,
  target: Target,
  payload: unknown,
  timeLimited: boolean,
  signal: CancelSignal | undefined,
  context: unknown,
  resolve: PendingTask["resolve"],
  reject: PendingTask["reject"],
): PendingTask {
  return {
    id,
    target,
    kind: target.kind,
    payload,
    timeLimited,
    signal,
    context,
    state: "queued",
    enqueuedAt: 0 as Instant,
    dispatchedAt: 0 as Instant,
    estimateMs: 0,
    maxWaitMs: 0,
    trivial: false,
    retried: false,
    slot: 0,
    onAbort: undefined,
    timer: undefined,
    resolve,
    reject,
  };
}
