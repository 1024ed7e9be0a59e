// Lifespan hooks and where they were registered: a failing hook is named by its kind and the
// line of the app's module that registered it, on the main thread and in a worker alike.
import { relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

export type HookKind = "onStartup" | "onShutdown" | "onWorkerStart";

/** A hook's registration site, as a stack captured then and read only if the hook fails. */
const sites = new WeakMap<Function, { stack?: string }>();

/** Records where `hook` is being registered: the caller of `registrar` (the app's method). */
export function recordHookSite(hook: Function, registrar: Function): void {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, registrar);
  sites.set(hook, holder);
}

/** A lifespan hook threw (or rejected): which one, where it was registered, and why. */
export class LifespanHookError extends Error {
  override readonly name = "LifespanHookError";
  constructor(
    readonly kind: HookKind,
    readonly site: string | undefined,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`${kind} hook${site ? ` registered at ${site}` : ""} failed: ${reason}`, { cause });
    // The hook's own frames say where inside it the failure was.
    if (cause instanceof Error && cause.stack) this.stack = `${this.name}: ${this.message}\n${stackFrames(cause.stack)}`;
  }
}

/** Runs `hooks` in order; the first that fails stops the rest, named in a LifespanHookError. */
export async function runLifespanHooks<A>(kind: HookKind, hooks: readonly ((arg: A) => unknown)[], arg: A): Promise<void> {
  for (const hook of hooks) {
    try {
      await hook(arg);
    } catch (error) {
      // A mounted app's hooks run inside one of this app's: the inner name is the precise one.
      throw error instanceof LifespanHookError ? error : new LifespanHookError(kind, hookSite(hook), error);
    }
  }
}

/** "main.ts:12" (relative to the working folder when inside it), or undefined when unknown. */
export function hookSite(hook: Function): string | undefined {
  const frame = sites
    .get(hook)
    ?.stack?.split("\n")
    .find((line) => line.startsWith("    at "));
  const match = frame && /\(?((?:file:\/\/)?[^\s()]+?):(\d+):\d+\)?$/.exec(frame);
  if (!match) return undefined;
  let file = match[1]!;
  if (file.startsWith("file://")) file = fileURLToPath(file);
  const inside = relative(process.cwd(), file);
  return `${inside && !inside.startsWith(`..${sep}`) && !inside.startsWith("/") ? inside : file}:${match[2]}`;
}

function stackFrames(stack: string): string {
  const at = stack.indexOf("\n    at ");
  return at < 0 ? "" : stack.slice(at + 1);
}
