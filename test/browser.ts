// Headless Debian Chromium driven by playwright-core, for the tests of pages Loopwise serves.
// `npm test` installs Chromium first (scripts/ensure-chromium.sh).
import { execFileSync } from "node:child_process";
import { chromium, type Browser, type Locator } from "playwright-core";

function chromiumPath(): string {
  return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox", "--disable-gpu"] });
}

export interface TriedOut {
  /** The status number shown ("401", also when Swagger UI adds "Undocumented"). */
  status: string;
  /** The response body as shown. */
  body: string;
  /** The request URL Swagger UI shows it sent. */
  url: string;
}

/**
 * In Swagger UI: opens the operation, clicks "Try it out", lets `fill` enter its inputs, executes,
 * and reads what the live response shows. `opened` runs once the operation is open, before
 * "Try it out", for what a test checks of the operation as documented.
 */
export async function tryItOut(
  operation: Locator,
  { opened, fill }: { opened?: () => Promise<void>; fill?: () => Promise<void> } = {},
): Promise<TriedOut> {
  await operation.locator(".opblock-summary").click();
  await opened?.();
  await operation.getByRole("button", { name: "Try it out" }).click();
  await fill?.();
  await operation.getByRole("button", { name: "Execute" }).click();
  const live = operation.locator(".live-responses-table tbody");
  await live.locator(".response-col_status").first().waitFor();
  return {
    status: ((await live.locator(".response-col_status").first().textContent()) ?? "").trim().split(/\s/)[0]!,
    body: (await live.locator(".response-col_description pre").first().textContent()) ?? "",
    url: (await operation.locator(".request-url pre").textContent()) ?? "",
  };
}
