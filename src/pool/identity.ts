// Every key by which threads find each other's things. Functions and objects cannot cross
// threads, so each thread builds its own copy of the app by importing the same module, and
// things are matched by names that come out the same in every thread:
//
//   main thread                                  worker thread (one per pool slot)
//   ───────────                                  ─────────────────────────────────
//   import app module ─── moduleUrl, export ───▶ import the same module (worker-entry)
//   new App()  → globalThis[apps][i]             new App()  → globalThis[apps][i]
//                                                app = export, or apps[i] of that module
//   app.routes[id]     ─── route id ───────────▶ app.routes[id]           (registration order)
//   app.dependencyTable[id] ─ dependency id ───▶ app.dependencyTable[id]  (first use order)
//   blocking(fn) → "module#n" ── key ──────────▶ blocking(fn) → "module#n" (ModuleRegistry)
//   new SharedCounter() → "module#n" ─ key ────▶ adopts the buffer sent under "module#n"
//      (allocates the SharedArrayBuffer)            (globalThis[sharedBuffers], set before import)
//   compares signatures ◀── "ready" + lines ──── app[taskHost]().signature()
//
//   A TypeScript app may be compiled ahead (compile-app.ts): a worker then imports
//   /tmp/loopwise-app-X/…/main.ts.mjs where the main thread imported …/main.ts. The worker is
//   handed the map from compiled URLs to source URLs, and every key above is made from the
//   source URL (callerModuleUrl asks sourceUrlOf), so both threads still name things alike.
//
// The keys live on globalThis under Symbol.for names so that two copies of the package loaded
// in one thread (the app's and the CLI's) agree.

/** Where `new App()` lists the apps created in this thread, in creation order. */
export const appsKey = Symbol.for("loopwise.apps");
/** The method of an App that gives the worker entry its TaskHost (see protocol.ts). */
export const hostKey = Symbol.for("loopwise.task-host");
const workerSlotKey = Symbol.for("loopwise.worker-slot");
const sharedBuffersKey = Symbol.for("loopwise.shared-buffers");
const compiledSourcesKey = Symbol.for("loopwise.compiled-sources");

const globals = globalThis as Record<symbol, unknown>;

/** Called by the worker entry first thing: this thread is pool worker `slot`. */
export function markWorkerThread(slot: number): void {
  globals[workerSlotKey] = slot;
}

/** The worker's slot number inside a pool worker, else undefined (the main thread). */
export function workerSlot(): number | undefined {
  return globals[workerSlotKey] as number | undefined;
}

/** Called by the worker entry before it imports the app module: the main thread's shared memory, by key. */
export function inheritSharedBuffers(buffers: Record<string, SharedArrayBuffer>): void {
  globals[sharedBuffersKey] = buffers;
}

/** In a worker, the buffer the main thread registered under `key`. */
export function inheritedBuffer(key: string): SharedArrayBuffer | undefined {
  return (globals[sharedBuffersKey] as Record<string, SharedArrayBuffer> | undefined)?.[key];
}

/** The apps created in this thread so far (the list `new App()` appends to). */
export function createdApps<T>(): T[] {
  return (globals[appsKey] ??= []) as T[];
}

/** Called by the worker entry before it imports a compiled app: compiled module URL → its source's URL. */
export function adoptCompiledSources(sources: Record<string, string>): void {
  globals[compiledSourcesKey] = sources;
}

/** The URL a module is known by in every thread: its source's, if this thread imports a compiled copy. */
export function sourceUrlOf(url: string): string {
  return (globals[compiledSourcesKey] as Record<string, string> | undefined)?.[url] ?? url;
}
