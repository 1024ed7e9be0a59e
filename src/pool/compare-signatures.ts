/**
 * Describes the first difference between the main thread's view of the app and a worker's, or
 * returns undefined. Routes must match one for one. Blocking functions and shared memory are
 * registered per thread, and the main thread may have imported other modules too, so each of the
 * worker's must simply exist in the main thread.
 */
export function compareSignatures(main: string[], worker: string[]): string | undefined {
  const isRoute = (line: string) => line.startsWith("route ");
  const mainRoutes = main.filter(isRoute);
  const workerRoutes = worker.filter(isRoute);
  const advice =
    "Routes, blocking functions and shared state must be registered the same way on every import of the app module " +
    "(no registration that depends on isMainThread, randomness or the environment).";
  for (let i = 0; i < Math.max(mainRoutes.length, workerRoutes.length); i++) {
    if (mainRoutes[i] !== workerRoutes[i]) {
      return `route ${i + 1} is ${describe(workerRoutes[i])} in the worker but ${describe(mainRoutes[i])} in the main thread. ${advice}`;
    }
  }
  const known = new Set(main);
  const unknown = worker.find((line) => !isRoute(line) && !known.has(line));
  return unknown === undefined ? undefined : `the worker registered "${unknown}", which the main thread did not. ${advice}`;
}

function describe(line: string | undefined): string {
  return line === undefined ? "missing" : `"${line}"`;
}
