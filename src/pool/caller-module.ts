import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname } from "node:path";
import { sourceUrlOf } from "./identity.js";

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * The URL of the module that called into Loopwise (the first stack frame outside this package),
 * so `new App()` knows which module every worker must import.
 */
export function callerModuleUrl(): string | undefined {
  const original = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_error, frames) => frames;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, callerModuleUrl);
    for (const frame of holder.stack ?? []) {
      const name = frame.getFileName();
      if (!name || name.startsWith("node:")) continue;
      // A compiled copy of a TypeScript module is known by its source's URL (see identity.ts).
      const url = sourceUrlOf(name.startsWith("file:") ? name.split("?")[0]! : pathToFileURL(name).href);
      if (fileURLToPath(url).startsWith(packageDir + "/")) continue;
      return url;
    }
    return undefined;
  } finally {
    Error.prepareStackTrace = original;
  }
}
