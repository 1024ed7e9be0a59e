// The onShutdown hooks, run one after another within what is left of the grace period. A hook
// still running at the deadline is abandoned and the hooks after it are not started. A hook whose
// promise can never settle (the event loop ran empty while it waited: nothing is left that could
// settle it) is told apart from a slow one, so the process does not end silently as if it had run.
import { performance } from "node:perf_hooks";
import type { Logger } from "./logger.js";
import type { StartedApp } from "./start-app.js";
import { hookSite, LifespanHookError } from "../app/lifespan-hooks.js";

export interface AbandonedHook {
  /** "onShutdown hook (closeDatabase) registered at main.ts:12", or "onShutdown hook #2" when its line is unknown. */
  hook: string;
  /** Its promise could never settle: nothing was left in the event loop to settle it. */
  neverSettles: boolean;
  /** The hooks after it, which were not started. */
  notRun: string[];
}

export interface HooksReport {
  /** What the hooks threw, each as a LifespanHookError naming the hook (a value that is not an Error is described). */
  failures: Error[];
  abandoned?: AbandonedHook;
}

/**
 * The end of a shutdown, for the server and `loopwise worker`: the pool ends and the hooks run
 * within what is left of the grace period (`deadline`, a `performance.now()` time), and still get
 * a short last chance (a tenth of the grace period, at most 1 s) when draining used it all.
 * Logs each failure and what was abandoned; resolves true if every hook ran to its end.
 */
export async function stopWithin(started: StartedApp, logger: Logger, drained: boolean, deadline: number, graceMs: number): Promise<boolean> {
  logger.waitingForShutdown();
  const { failures, abandoned } = await started.stop(drained, Math.max(deadline, performance.now() + Math.min(1000, graceMs / 10)));
  for (const failure of failures) logger.shutdownHookFailed(failure);
  if (abandoned) logger.shutdownHookAbandoned(abandoned, graceMs);
  const ok = failures.length === 0 && abandoned === undefined;
  logger.shutdownComplete(!ok);
  return ok;
}

/**
 * Runs `hooks` in order until `deadline` (a `performance.now()` time; Infinity for none).
 * Never rejects.
 */
export async function runShutdownHooks(hooks: readonly (() => unknown)[], deadline: number): Promise<HooksReport> {
  const failures: Error[] = [];
  for (let i = 0; i < hooks.length; i++) {
    const hook = hooks[i]!;
    let result: unknown;
    try {
      result = hook();
    } catch (error) {
      failures.push(hookError(hook, error));
      continue;
    }
    if (!isThenable(result)) continue;
    const outcome = await settleBy(result, deadline);
    if (outcome.kind === "rejected") failures.push(hookError(hook, outcome.error));
    else if (outcome.kind !== "fulfilled") {
      const notRun = hooks.slice(i + 1).map((later, j) => hookLabel(later, i + 1 + j));
      return { failures, abandoned: { hook: hookLabel(hook, i), neverSettles: outcome.kind === "never", notRun } };
    }
  }
  return { failures };
}

/** A mounted app's hooks run inside one of this app's: the inner error names the precise one. */
function hookError(hook: Function, error: unknown): Error {
  return error instanceof LifespanHookError ? error : new LifespanHookError("onShutdown", hookSite(hook), error);
}

/** "onShutdown hook (closeDatabase) registered at main.ts:12", or by its place when its line is unknown. */
function hookLabel(hook: Function, index: number): string {
  const name = typeof hook.name === "string" && hook.name !== "" ? ` (${hook.name})` : "";
  const site = hookSite(hook);
  return site ? `onShutdown hook${name} registered at ${site}` : `onShutdown hook #${index + 1}${name}`;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  try {
    return (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as PromiseLike<unknown>).then === "function";
  } catch {
    return false;
  }
}

type Outcome = { kind: "fulfilled" } | { kind: "rejected"; error: unknown } | { kind: "late" } | { kind: "never" };

/**
 * How `promise` ends: settled, still pending at the deadline ("late"), or pending when the event
 * loop ran empty ("never"). The deadline's timer is unref'd so that it does not itself keep the
 * loop busy; an empty loop is what 'beforeExit' reports.
 */
function settleBy(promise: PromiseLike<unknown>, deadline: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const finish = (outcome: Outcome) => {
      clearTimeout(timer);
      process.off("beforeExit", onEmptyLoop);
      resolve(outcome);
    };
    const onEmptyLoop = () => finish({ kind: "never" });
    const left = deadline - performance.now();
    const timer = Number.isFinite(left) ? setTimeout(() => finish({ kind: "late" }), Math.max(0, left)).unref() : undefined;
    process.on("beforeExit", onEmptyLoop);
    try {
      promise.then(
        () => finish({ kind: "fulfilled" }),
        (error) => finish({ kind: "rejected", error }),
      );
    } catch (error) {
      finish({ kind: "rejected", error });
    }
  });
}
