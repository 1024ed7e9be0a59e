// The queue lane runs on BullMQ and ioredis, optional peer dependencies: most apps never use it,
// and the two bring 17 MB and about twenty packages. Their modules are imported only once a queue
// starts; an app that needs them and lacks them is stopped at startup with the command to run.
import { createRequire } from "node:module";
import type { App } from "../app/app.js";
import { declaredJobNames } from "./durable-job.js";

/** What installs them, in the app's project. */
export const queueInstall = "npm i bullmq ioredis";
const queuePackages = ["bullmq", "ioredis"];

export class MissingQueuePackagesError extends Error {
  override readonly name = "MissingQueuePackagesError";
}

/** What in the app needs the queue lane ("GET /report runs on the queue lane"), or undefined when nothing does. */
function queueUser(app: App, redis: string | undefined): string | undefined {
  const route = app.routes.find((r) => r.lane === "queue");
  if (route) return `${route.method} ${route.path} runs on the queue lane`;
  const [job] = declaredJobNames();
  if (job !== undefined) return `the durable job "${job}" runs on the queue lane`;
  if (redis !== undefined) return "--redis (the `redis` option) starts the queue lane";
  return undefined;
}

/** Throws a MissingQueuePackagesError naming the command to run when the app needs the queue lane and its packages are not installed. */
export function checkQueuePackages(app: App, redis: string | undefined): void {
  const user = queueUser(app, redis);
  if (user === undefined) return;
  const require = createRequire(import.meta.url);
  const missing = queuePackages.filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  throw new MissingQueuePackagesError(
    `${user}, which needs BullMQ and ioredis (optional peer dependencies; ${missing.join(" and ")} ${missing.length === 1 ? "is" : "are"} not installed). ` +
      `Install them in the app's project: ${queueInstall}`,
  );
}
