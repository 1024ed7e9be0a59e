// `loopwise run --workers N`: N server processes sharing one port through node:cluster, each
// with its own worker pool, like `uvicorn --workers N`. The parent only forks, watches and
// stops them; signals go to the parent, which asks each child to drain.
import cluster, { type Worker as ClusterWorker } from "node:cluster";
import { onShutdownSignals } from "./drain.js";
import type { Logger } from "./logger.js";
import type { RunningServer } from "./serve.js";
import { clearStaleSocket } from "./transport.js";

/** What a supervising parent (the cluster parent, or the reloader) sends a child to make it drain and exit. */
export const shutdownMessage = "loopwise:shutdown";
/** What a child sends its parent once it served its --limit-max-requests: start my replacement, then stop me. */
export const recycleMessage = "loopwise:recycle";
/** Set by the reloader on its child, which it stops with `shutdownMessage` over IPC. */
export const supervisedEnv = "LOOPWISE_SUPERVISED";

/**
 * In the parent: forks `count` copies of this command and supervises them. Resolves with the exit
 * code. With a Unix socket path, the parent makes it ready first (its children share one socket).
 */
export async function runClusterParent(count: number, logger: Logger, socketPath?: string): Promise<number> {
  logger.parentStarted(process.pid, count);
  if (socketPath !== undefined) {
    try {
      await clearStaleSocket(socketPath);
    } catch (error) {
      logger.startupFailed(error);
      logger.flush();
      return 1;
    }
  }
  logger.flush();
  return new Promise((resolve) => {
    const children = new Set<ClusterWorker>();
    let stopping = false;
    let failed = false;
    const listening = new Set<ClusterWorker>();
    // Children past their request limit: stopped once their replacement listens, and not replaced again when they exit.
    const retiring = new Set<ClusterWorker>();
    const finish = () => {
      logger.parentFinished(process.pid);
      logger.flush();
      resolve(failed ? 1 : 0);
    };

    const fork = () => {
      const child = cluster.fork();
      children.add(child);
      child.once("listening", () => {
        listening.add(child);
        // Started while the parent was stopping (a replacement on its way): it could not hear the first ask.
        if (stopping) ask(child);
      });
      child.on("message", (message) => {
        if (message !== recycleMessage || stopping || retiring.has(child)) return;
        retiring.add(child);
        logger.childRecycling(child.process.pid ?? 0);
        // The replacement first, so the port never has one process fewer than asked for.
        fork().once("listening", () => ask(child));
      });
      child.once("exit", (code, signal) => {
        children.delete(child);
        const exitCode = code ?? (signal ? 1 : 0);
        if (retiring.delete(child) && !stopping) {
          listening.delete(child);
          return;
        }
        if (!stopping) {
          logger.childExited(child.process.pid ?? 0, exitCode, listening.has(child));
          // A child that never started means the app cannot start: stop rather than loop.
          if (!listening.has(child)) return stopAll(true);
          fork();
        } else if (exitCode !== 0) failed = true;
        if (stopping && children.size === 0) finish();
        listening.delete(child);
      });
      return child;
    };

    const stopAll = (failure: boolean) => {
      if (failure) failed = true;
      if (stopping) return;
      stopping = true;
      if (children.size === 0) return finish();
      for (const child of children) ask(child);
    };

    onShutdownSignals(
      (signal) => {
        logger.shuttingDown(signal);
        stopAll(false);
      },
      () => {
        for (const child of children) child.process.kill("SIGKILL");
      },
    );
    for (let i = 0; i < count; i++) fork();
  });
}

/**
 * In a child: the parent decides when to stop. A Ctrl+C in a terminal reaches every process of
 * the group; the children leave it to the parent, which asks each to drain exactly once.
 */
export function followParent(server: RunningServer): void {
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => {});
  const stop = () => server.close("parent asked").then((finished) => process.exit(finished ? 0 : 1));
  process.on("message", (message) => {
    if (message === shutdownMessage) void stop();
  });
  // The parent died without asking: drain and go too.
  process.on("disconnect", () => void stop());
}

/**
 * Asks a child to drain and exit, unless it is already going: one that drained after its request
 * limit may be gone in the moment before its exit is reported. Its channel may also close while
 * the message is on its way (EPIPE): the callback takes that error, which would otherwise be an
 * unhandled 'error' event in the parent; the child's exit is reported as usual.
 */
function ask(child: ClusterWorker): void {
  if (child.isConnected()) child.send(shutdownMessage, () => {});
}

export const isClusterChild = () => cluster.isWorker;

/** A child whose parent decides when it stops: a cluster child, or the reloader's. */
export const isSupervised = () => cluster.isWorker || (process.env[supervisedEnv] === "1" && process.send !== undefined);
