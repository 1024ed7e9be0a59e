// Where functions are defined, in the inspector's own terms ("scriptId:line:column"), so the
// watchdog can recognise a route handler among the frames of a paused main thread.
import type { Runtime } from "node:inspector";
import { Session } from "node:inspector/promises";
import { findSourceMap } from "node:module";
import { fileURLToPath } from "node:url";
import type { SampledFrame } from "./shared-slots.js";

const holder = Symbol.for("loopwise.locate");

export async function functionLocations(functions: Function[]): Promise<(string | undefined)[]> {
  const session = new Session();
  try {
    session.connect();
    (globalThis as Record<symbol, unknown>)[holder] = functions;
    const { result } = (await session.post("Runtime.evaluate", {
      expression: `globalThis[Symbol.for("loopwise.locate")]`,
      objectGroup: "loopwise",
    })) as Runtime.EvaluateReturnType;
    const { result: items } = (await session.post("Runtime.getProperties", {
      objectId: result.objectId!,
      ownProperties: true,
    })) as Runtime.GetPropertiesReturnType;
    const locations: (string | undefined)[] = [];
    for (let i = 0; i < functions.length; i++) {
      const objectId = items.find((item) => item.name === String(i))?.value?.objectId;
      if (!objectId) continue;
      const { internalProperties } = (await session.post("Runtime.getProperties", {
        objectId,
        ownProperties: true,
      })) as Runtime.GetPropertiesReturnType;
      const location = internalProperties?.find((p) => p.name === "[[FunctionLocation]]")?.value?.value as
        | { scriptId: string; lineNumber: number; columnNumber: number }
        | undefined;
      locations[i] = location && `${location.scriptId}:${location.lineNumber}:${location.columnNumber}`;
    }
    await session.post("Runtime.releaseObjectGroup", { objectGroup: "loopwise" });
    return locations;
  } catch {
    // A Node built without the inspector: blocks after an await are then reported without a route.
    return functions.map(() => undefined);
  } finally {
    delete (globalThis as Record<symbol, unknown>)[holder];
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
