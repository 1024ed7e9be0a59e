// Headless Debian Chromium driven by playwright-core, for the tests of pages Loopwise serves.
// `npm test` installs Chromium first (scripts/ensure-chromium.sh).
import { execFileSync } from "node:child_process";
import { chromium, type Browser } from "playwright-core";

function chromiumPath(): string {
  return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox", "--disable-gpu"] });
}
