// `loopwise check MODULE[:EXPORT]...`: loads each app as `loopwise run` would (its routes and
// their lanes come from the app itself), then reads the code that runs on its event loop.
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { checkApps, type CheckedApp } from "../check/check-apps.js";
import { reportJson, reportText } from "../check/report.js";
import { loadTypeScript } from "../check/typescript.js";
import { markCliOwnsServer } from "../server/listen.js";
import { UsageError } from "./flags.js";
import { importApp, splitSpec } from "./import-app.js";
import { toModuleUrl } from "../pool/module-loader.js";

export async function check(specs: string[], json: boolean): Promise<never> {
  if (specs.length === 0) throw new UsageError("check takes one or more MODULE[:EXPORT]");
  // First, before any app runs its top level: a missing compiler is said at once.
  const ts = loadTypeScript(dirname(fileURLToPath(toModuleUrl(splitSpec(specs[0]!).modulePath))));
  markCliOwnsServer();
  // Positions in a TypeScript module reach its source through the source map tsx made.
  process.setSourceMapsEnabled(true);
  const apps: CheckedApp[] = [];
  for (const spec of specs) {
    const { app, moduleUrl } = await importApp(spec);
    apps.push({ app, moduleUrl, spec });
  }
  const report = await checkApps(ts, apps);
  // What a pre-commit hook waits for: the whole command, Node's own start included.
  report.durationMs = performance.now();
  console.log(json ? reportJson(report) : reportText(report, apps.length));
  // An app may hold the process open (a database, a timer): the check is done with it.
  await new Promise((flushed) => process.stdout.write("", flushed));
  process.exit(report.findings.length > 0 ? 1 : 0);
}
