// The apps of the background-tasks, security and testing pages, driven through TestClient: what
// each page says they do. (Their console sessions run in sessions.test.ts, /docs in test/openapi.)
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { TestClient } from "loopwise/testing";
import { app as background } from "../../docs/examples/background-tasks.ts";
import { app as security } from "../../docs/examples/security.ts";
// The testing page's own example: its tests run as part of this file.
import "../../docs/examples/testing/app.test.ts";
// And the test of the before-it-ships page, with its failOnBlock client.
import "../../docs/examples/before-it-ships/app.test.ts";

describe("docs/examples/background-tasks.ts", () => {
  let client: TestClient;
  before(async () => {
    client = await TestClient.start(background);
  });
  after(() => client.close());

  test("a notification is written on the pool after the response; a report's tasks come back from its worker", async () => {
    const sent = await client.post("/send-notification/ada@example.com");
    assert.deepEqual(sent.json(), { message: "Notification sent in the background" });
    assert.deepEqual(
      sent.background.map((b) => [b.task, b.lane.replace(/#\d+$/, "")]),
      [["writeNotification", "worker"]],
    );
    const report = await client.post("/send-report/bob@example.com", { query: { q: "sales" } });
    assert.match(report.lane, /^worker#/);
    assert.deepEqual(
      report.background.map((b) => [b.task, b.lane.replace(/#\d+$/, ""), b.error]),
      [
        ["writeLog", "loop", undefined],
        ["writeNotification", "worker", undefined],
      ],
    );
    assert.deepEqual((await client.get("/log")).json(), [
      "notification for ada@example.com: some notification",
      "found query: sales",
      "notification for bob@example.com: your report",
    ]);
  });
});

describe("docs/examples/security.ts", () => {
  let client: TestClient;
  before(async () => {
    client = await TestClient.start(security, { poolSize: 1 });
  });
  after(() => client.close());

  test("the password flow: a token for the right password, the user for the token", async () => {
    const form = { headers: { "content-type": "application/x-www-form-urlencoded" } };
    assert.equal((await client.post("/token", { ...form, body: "username=ada&password=nope" })).status, 400);
    assert.equal((await client.post("/token", { ...form, body: "username=nobody&password=secret" })).status, 400);
    const login = await client.post("/token", { ...form, body: "username=ada&password=secret" });
    const { access_token, token_type } = login.json();
    assert.equal(token_type, "bearer");
    const me = await client.get("/users/me", { headers: { authorization: `Bearer ${access_token}` } });
    assert.deepEqual(me.json(), { username: "ada", fullName: "Ada Lovelace" });
  });

  test("basic, API key and bearer: 401 without credentials, 403 or 401 for wrong ones, the data for right ones", async () => {
    const basic = (user: string) => ({ headers: { authorization: `Basic ${Buffer.from(user).toString("base64")}` } });
    assert.equal((await client.get("/basic/me", basic("stanley:nope"))).status, 401);
    assert.deepEqual((await client.get("/basic/me", basic("stanley:swordfish"))).json(), { username: "stanley" });
    assert.equal((await client.get("/reports", { headers: { "x-api-key": "nope" } })).status, 403);
    assert.equal((await client.get("/reports", { headers: { "x-api-key": "reports-key" } })).status, 200);
    assert.equal((await client.get("/items", { headers: { authorization: "Bearer nope" } })).status, 403);
    const items = await client.get("/items", { headers: { authorization: "Bearer secret-token" } });
    assert.match(items.lane, /^worker#/);
    assert.deepEqual(items.json(), [{ name: "pen" }]);
  });
});
