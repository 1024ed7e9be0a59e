// The live lanes page in a real browser: the seed's Test 2 against a dev server must show the
// block marker naming /async/sleep and each request's bar in the lane that ran it.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { launchBrowser } from "../browser.ts";
import { fixture, request, spawnServer } from "../helpers.ts";

const artifacts = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
const seed = fileURLToPath(new URL("../../examples/seed/main.ts", import.meta.url));

test("the live page shows Test 2: a block marker naming /async/sleep and three bars in the right lanes", async () => {
  const server = await spawnServer(`${seed}:app`, ["--dev", "--pool-size", "2"], { SLEEP_MS: "1500" });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 520 } });
    await page.goto(`${server.url}/_loopwise`);
    await page.waitForSelector("#status.live");

    // The seed's Test 2: each request on its own connection, 50 ms apart.
    const replies: Promise<unknown>[] = [];
    for (const path of ["/async/sleep", "/async/hello", "/sync/hello"]) {
      replies.push(request(server.url + path));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // While the loop is blocked the server cannot send a thing; the page says so as it happens.
    const silence = page.locator("#silence");
    await silence.waitFor({ state: "visible", timeout: 3000 });
    assert.match((await silence.textContent()) ?? "", /No word from the server for \d+\.\d s: its event loop is blocked right now/);
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: `${artifacts}lanes-page-during-block.png` });
    await Promise.all(replies);
    await silence.waitFor({ state: "hidden", timeout: 3000 });

    const marker = page.locator('.block[data-route="GET /async/sleep"]');
    await marker.waitFor({ timeout: 10_000 });
    assert.match((await marker.textContent()) ?? "", /GET \/async\/sleep blocked the loop for \d+ ms/);
    await page.locator('.req[data-path="/sync/hello"]').waitFor({ timeout: 10_000 });
    const lanes = await page.$$eval(".req", (bars) => bars.map((bar) => [bar.getAttribute("data-path"), bar.getAttribute("data-lane")]));
    const laneOf = (path: string) => lanes.find(([p]) => p === path)?.[1];
    assert.equal(laneOf("/async/sleep"), "loop");
    assert.equal(laneOf("/async/hello"), "loop");
    assert.match(laneOf("/sync/hello") ?? "", /^worker#\d$/);
    assert.match((await page.locator("#warnings").textContent()) ?? "", /2 requests waited/);

    await page.screenshot({ path: `${artifacts}lanes-page.png` });
  } finally {
    await browser.close();
    await server.stop();
  }
});

test("the page and metrics are off unless asked for", async () => {
  const server = await spawnServer(`${fixture("monitor-app.ts")}:app`, ["--pool-size", "1"]);
  try {
    assert.equal((await request(server.url + "/_loopwise")).status, 404);
    assert.equal((await request(server.url + "/metrics")).status, 404);
  } finally {
    await server.stop();
  }
});

test("a browser chats over WebSockets (docs/examples/websockets.ts); the live page shows each handshake, and still draws", async () => {
  const chat = fileURLToPath(new URL("../../docs/examples/websockets.ts", import.meta.url));
  const server = await spawnServer(`${chat}:app`, ["--dev", "--pool-size", "1"]);
  const browser = await launchBrowser();
  const errors: string[] = [];
  try {
    const join = async (name: string) => {
      const page = await browser.newPage();
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(server.url);
      await page.fill("#name", name);
      await page.click("#join button");
      await page.locator("#say").waitFor();
      return page;
    };
    const ada = await join("ada");
    const bob = await join("bob");
    await ada.locator("li", { hasText: "server: bob joined" }).waitFor({ timeout: 10_000 });
    await bob.fill("#text", "hello from a real browser");
    await bob.click("#say button");
    await ada.locator("li", { hasText: "bob: hello from a real browser" }).waitFor({ timeout: 10_000 });

    const live = await browser.newPage({ viewport: { width: 1280, height: 520 } });
    live.on("pageerror", (error) => errors.push(error.message));
    await live.goto(`${server.url}/_loopwise`);
    await live.waitForSelector("#status.live");
    const handshakes = live.locator('.req[data-path^="/ws/rooms/lobby"][data-status="101"]');
    await handshakes.first().waitFor({ timeout: 10_000 });
    assert.equal(await handshakes.count(), 2);
    assert.equal(await live.locator('.pending[data-path^="/ws/rooms/lobby"]').count(), 0, "an open session is not a request left in flight");
    await bob.close();
    await ada.locator("li", { hasText: "server: bob left" }).waitFor({ timeout: 10_000 });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.stop();
  }
  // One access line per session, written when it ended: a closed tab says 1001, "going away".
  const sessions = server.access.filter((line) => String(line.path).startsWith("/ws/rooms/lobby"));
  assert.equal(sessions.length, 2);
  assert.ok(sessions.every((line) => line.status === 101 && typeof line.close_code === "number"));
  assert.ok(sessions.some((line) => line.close_code === 1001));
});
