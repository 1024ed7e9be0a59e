// /docs in a real browser with an app that declares security schemes: Authorize is there, logs
// in through the OAuth2 password flow (Swagger UI posts the form to the token route), and the
// credentials go with the requests it sends. /redoc, served from the installed package, renders.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import { serve, type RunningServer } from "loopwise";
import { app } from "../../docs/examples/security.ts";
import { launchBrowser, tryItOut } from "../browser.ts";
import { captureLogs, request } from "../helpers.ts";

let server: RunningServer;
before(async () => {
  server = await serve(app, { port: 0, poolSize: 1, logWrite: captureLogs().write });
});
after(() => server.close());

/**
 * Everything the page fetched, or tried to, from somewhere other than the server. A request the
 * page's content policy stopped never left the browser: it does not count.
 */
function watchExternal(page: Page, base: string): string[] {
  const external: string[] = [];
  const outside = (url: string) => !url.startsWith(base) && !url.startsWith("data:") && !url.startsWith("blob:");
  page.on("requestfinished", (r) => {
    if (outside(r.url())) external.push(r.url());
  });
  page.on("requestfailed", (r) => {
    if (outside(r.url()) && !["csp", "net::ERR_BLOCKED_BY_CSP"].includes(r.failure()?.errorText ?? ""))
      external.push(`${r.url()} (${r.failure()?.errorText})`);
  });
  return external;
}

/** Tries an operation out in Swagger UI and returns the status and body it shows. */
const tryOut = (page: Page, operationId: string) => tryItOut(page.locator(`#operations-default-${operationId}`));

describe("/docs with security schemes", () => {
  test("Authorize logs in with the OAuth2 password flow and sends the token", { timeout: 90_000 }, async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const external = watchExternal(page, server.url);
      await page.goto(server.url + "/docs");
      // Without credentials the protected route answers 401.
      assert.equal((await tryOut(page, "read_users_me_users_me_get")).status, "401");
      await page.locator(".btn.authorize").first().click();
      const modal = page.locator(".modal-ux");
      await modal.locator("#oauth_username").fill("ada");
      await modal.locator("#oauth_password").fill("secret");
      await modal.getByRole("button", { name: "Apply given OAuth2 credentials" }).click();
      await modal.getByText("Logout").first().waitFor();
      await modal.locator(".btn-done").first().click();
      const operation = page.locator("#operations-default-read_users_me_users_me_get");
      await operation.getByRole("button", { name: "Execute" }).click();
      // The 401 shown before is replaced by this try's answer.
      await operation
        .locator(".live-responses-table tbody .response-col_status", { hasText: /^\s*200/ })
        .first()
        .waitFor({ timeout: 10_000 });
      const body = await operation.locator(".live-responses-table tbody .response-col_description pre").first().textContent();
      assert.deepEqual(JSON.parse(body ?? ""), { username: "ada", fullName: "Ada Lovelace" });
      assert.deepEqual(external, [], "the page fetched nothing from outside the server");
    } finally {
      await browser.close();
    }
  });

  test("Authorize with a bearer token: the worker-lane route receives it", { timeout: 90_000 }, async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(server.url + "/docs");
      await page.locator(".btn.authorize").first().click();
      const modal = page.locator(".modal-ux");
      await modal.locator("#auth-bearer-value").fill("secret-token");
      await modal.locator("#auth-bearer-value").press("Enter");
      await modal.getByText("Logout").first().waitFor();
      await modal.locator(".close-modal").click();
      const result = await tryOut(page, "list_items_items_get");
      assert.equal(result.status, "200");
      assert.deepEqual(JSON.parse(result.body), [{ name: "pen" }]);
    } finally {
      await browser.close();
    }
  });
});

describe("/redoc", () => {
  test("is served from the installed redoc package, not a CDN", async () => {
    const page = await request(server.url + "/redoc");
    assert.equal(page.status, 200);
    assert.match(page.text, /<script src="\/redoc\/redoc.standalone.js">/);
    assert.doesNotMatch(page.text, /https?:\/\//);
    const bundle = await request(server.url + "/redoc/redoc.standalone.js");
    assert.equal(bundle.status, 200);
    assert.match(String(bundle.headers["content-type"]), /javascript/);
  });

  test("renders the operations and security schemes in a real browser, fetching nothing from elsewhere", { timeout: 90_000 }, async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const external = watchExternal(page, server.url);
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(server.url + "/redoc");
      await page.getByRole("heading", { name: "Security" }).first().waitFor({ timeout: 30_000 });
      await page.getByText("OAuth2PasswordBearer").first().waitFor();
      const text = (await page.locator("body").textContent()) ?? "";
      for (const summary of ["Read Users Me", "/users/me", "Login", "List Items"]) assert.ok(text.includes(summary), `ReDoc shows ${summary}`);
      assert.deepEqual(errors, [], errors.join("\n"));
      assert.deepEqual(external, [], "the page fetched nothing from outside the server");
    } finally {
      await browser.close();
    }
  });
});
