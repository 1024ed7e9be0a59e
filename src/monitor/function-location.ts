// Where functions are defined, in the inspector's own terms ("scriptId:line:column"), so the
// watchdog can recognise a route handler among the frames of a paused main thread.
import type { Runtime } from "node:inspector";
import { Session } from "node:inspector/promises";
import { findSourceMap } from "node:module";
import { fileURLToPath } from "node:url";
import type { SampledFrame } from "./shared-slots.js";

const holder = Symbol.for("loopwise.locate");

interface RawLocation {
  scriptId: string;
  lineNumber: number;
  columnNumber: number;
}

/** Where V8 says each function starts: its `[[FunctionLocation]]`, read through the session. */
async function rawLocations(session: Session, functions: Function[]): Promise<(RawLocation | undefined)[]> {
  (globalThis as Record<symbol, unknown>)[holder] = functions;
  try {
    const { result } = (await session.post("Runtime.evaluate", {
      expression: `globalThis[Symbol.for("loopwise.locate")]`,
      objectGroup: "loopwise",
    })) as Runtime.EvaluateReturnType;
    const { result: items } = (await session.post("Runtime.getProperties", {
      objectId: result.objectId!,
      ownProperties: true,
    })) as Runtime.GetPropertiesReturnType;
    const locations: (RawLocation | undefined)[] = [];
    for (let i = 0; i < functions.length; i++) {
      const objectId = items.find((item) => item.name === String(i))?.value?.objectId;
      if (!objectId) continue;
      const { internalProperties } = (await session.post("Runtime.getProperties", {
        objectId,
        ownProperties: true,
      })) as Runtime.GetPropertiesReturnType;
      locations[i] = internalProperties?.find((p) => p.name === "[[FunctionLocation]]")?.value?.value as RawLocation | undefined;
    }
    await session.post("Runtime.releaseObjectGroup", { objectGroup: "loopwise" });
    return locations;
  } finally {
    delete (globalThis as Record<symbol, unknown>)[holder];
  }
}

export async function functionLocations(functions: Function[]): Promise<(string | undefined)[]> {
  const session = new Session();
  try {
    session.connect();
    const locations = await rawLocations(session, functions);
    return functions.map((_, i) => {
      const location = locations[i];
      return location && `${location.scriptId}:${location.lineNumber}:${location.columnNumber}`;
    });
  } catch {
    // A Node built without the inspector: blocks after an await are then reported without a route.
    return functions.map(() => undefined);
  } finally {
    session.disconnect();
  }
}

/** A position in the source the developer wrote (0-based, as the inspector counts). */
export interface SourcePosition {
  /** The source's URL: `file:` for a module of the app. */
  url: string;
  line: number;
  column: number;
}

/**
 * Where each function is written, in the app's own source: a TypeScript module runs as the code
 * tsx compiled, so positions go through its source map (source maps must be on when it loads).
 * Undefined for a function V8 cannot place (a built-in, a bound function) or without the inspector.
 */
export async function functionSources(functions: Function[]): Promise<(SourcePosition | undefined)[]> {
  const session = new Session();
  const urls = new Map<string, string>();
  session.on("Debugger.scriptParsed", ({ params }) => urls.set(params.scriptId, params.url));
  try {
    session.connect();
    // Enabling the debugger announces every script loaded so far: how a script id becomes a URL.
    await session.post("Debugger.enable");
    const locations = await rawLocations(session, functions);
    await session.post("Debugger.disable");
    return locations.map((location) => {
      const url = location && urls.get(location.scriptId);
      if (!location || !url) return undefined;
      const entry = findSourceMap(url)?.findEntry(location.lineNumber, location.columnNumber) as
        | { originalSource?: string; originalLine?: number; originalColumn?: number }
        | undefined;
      if (entry?.originalSource !== undefined && entry.originalLine !== undefined) {
        return { url: entry.originalSource, line: entry.originalLine, column: entry.originalColumn ?? 0 };
      }
      return { url, line: location.lineNumber, column: location.columnNumber };
    });
  } catch {
    return functions.map(() => undefined);
  } finally {
    session.disconnect();
  }
}

/**
 * "file:line (function)" in the app's own source: a TypeScript app runs as code tsx compiled,
 * so positions go through its source map when there is one (main thread only).
 */
export function describeFrame(frame: SampledFrame): string {
  let file = frame.url;
  let line = frame.lineNumber;
  const entry = findSourceMap(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber) as
    | { originalSource?: string; originalLine?: number }
    | undefined;
  if (entry?.originalSource !== undefined && entry.originalLine !== undefined) {
    file = entry.originalSource;
    line = entry.originalLine;
  }
  const path = file.startsWith("file:") ? fileURLToPath(file) : file;
  return `${path}:${line + 1}${frame.functionName ? ` (${frame.functionName})` : ""}`;
}
