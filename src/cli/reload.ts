// `loopwise run --reload`: serves the app in a child process and starts a fresh one whenever a
// source file under the app's folder changes, like `uvicorn --reload`. For development only.
import { spawn, type ChildProcess } from "node:child_process";
import { watch } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { shutdownMessage, supervisedEnv } from "../server/cluster.js";
import { onShutdownSignals } from "../server/drain.js";
import type { Logger } from "../server/logger.js";

// "../cli/" so it resolves wherever the bundle puts this code (dist/cli/ or dist/chunks/).
const cli = fileURLToPath(new URL("../cli/main.js", import.meta.url));
const watched = /\.(ts|mts|cts|js|mjs|cjs|json)$/;
const ignored = /(^|[/\\])(node_modules|dist|\.git)([/\\]|$)/;
/** Editors write a file in several steps; one restart for the lot. */
const settleMs = 150;

/** Asks a child to drain and exit; one whose channel is already gone is just ended. */
function stop(child: ChildProcess): void {
  if (!child.connected || !child.send(shutdownMessage)) child.kill("SIGTERM");
}

/** Runs `loopwise run ARGS` in a child, restarting it on changes; resolves with the exit code. */
export function runWithReload(args: string[], spec: string, logger: Logger): Promise<number> {
  const folder = resolve(dirname(spec.replace(/:[A-Za-z_$][\w$]*$/, "")));
  logger.reloading(folder);
  logger.flush();
  return new Promise((resolveExit) => {
    let child: ChildProcess | undefined;
    let stopping = false;
    let timer: NodeJS.Timeout | undefined;

    const start = () => {
      // The child leaves signals to us (a Ctrl+C reaches it too) and drains when we say so.
      const current = spawn(process.execPath, [cli, "run", ...args], {
        stdio: ["inherit", "inherit", "inherit", "ipc"],
        env: { ...process.env, [supervisedEnv]: "1" },
      });
      child = current;
      current.once("exit", (code) => {
        if (child !== current) return; // replaced on purpose
        child = undefined;
        if (stopping) {
          watcher.close();
          resolveExit(code ?? 1);
        }
        // Otherwise the app crashed or failed to start: wait for the next change to try again.
      });
    };
    const restart = (file: string) => {
      logger.changeDetected(file);
      logger.flush();
      const old = child;
      child = undefined;
      if (!old || old.exitCode !== null) return start();
      old.once("exit", start);
      stop(old);
    };
    const watcher = watch(folder, { recursive: true }, (_event, file) => {
      if (!file || !watched.test(file) || ignored.test(file) || stopping) return;
      clearTimeout(timer);
      timer = setTimeout(() => restart(file), settleMs);
    });

    onShutdownSignals(() => {
      stopping = true;
      clearTimeout(timer);
      if (!child) {
        watcher.close();
        resolveExit(0);
        return;
      }
      stop(child);
    });
    start();
  });
}
