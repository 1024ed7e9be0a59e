// Forms through the TestClient (its `form` and `files`): urlencoded and multipart fields coerced
// like query strings into a declared body, uploads on both lanes, and the checks of `formLimits`.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { App } from "loopwise";
import { TestClient } from "loopwise/testing";
import { app } from "../fixtures/uploads-app.ts";
import { internalRoute } from "../helpers.ts";

describe("forms through the TestClient", () => {
  let client: TestClient;
  before(async () => {
    client = await TestClient.start(app, { poolSize: 1 });
  });
  after(() => client.close());

  test("urlencoded `age=3` into a number field is 3, as from a query string", async () => {
    const res = await client.post("/profile", { form: { title: "Ada", age: 3, subscribed: "false", tags: ["a", "b"] }, files: {} });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(
      { ...res.json(), text: undefined },
      { title: "Ada", age: 3, subscribed: false, tags: ["a", "b"], avatar: null, attachments: [], text: undefined },
    );
    const urlencoded = await client.post("/login", { form: { username: "ada", password: "pw", remember: 1 } });
    assert.deepEqual(urlencoded.json(), { username: "ada", password: "pw", remember: true });
    const wrong = await client.post("/login", { form: { username: "ada" } });
    assert.equal(wrong.status, 422);
    assert.deepEqual(wrong.json().detail[0].loc, ["body", "password"]);
  });

  test('a JSON body is taken as it is: "3" stays a string there and is refused', async () => {
    const res = await client.post("/sync/profile", { json: { title: "Ada", age: "3" } });
    assert.equal(res.status, 422);
    assert.equal(res.json().detail[0].type, "invalid_type");
  });

  test("files: a File keeps its name, lists repeat the field, both lanes read them", async () => {
    for (const path of ["/profile", "/sync/profile"]) {
      const res = await client.post(path, {
        form: { title: "Ada", age: "36" },
        files: { avatar: new File(["hi"], "me.txt", { type: "text/plain" }), attachments: [new Blob(["1"]), new Blob(["22"])] },
      });
      assert.equal(res.status, 200, res.text);
      const body = res.json();
      assert.deepEqual([body.avatar.name, body.avatar.type, body.avatar.size], ["me.txt", "text/plain", 2]);
      assert.deepEqual(
        body.attachments.map((a: { name: string; size: number }) => [a.name, a.size]),
        [
          ["blob", 1],
          ["blob", 2],
        ],
      );
    }
  });
});

describe("formLimits", () => {
  test("are checked when the route is registered", () => {
    const app = new App();
    assert.throws(
      () => app.post("/a", { formLimits: { maxFileSize: 0 } }, async () => null),
      /formLimits.maxFileSize must be a whole number, at least 1, got 0/,
    );
    assert.throws(() => app.post("/b", { formLimits: { maxFiles: 1.5 } }, async () => null), /formLimits.maxFiles must be a whole number/);
    assert.throws(() => app.post("/c", { formLimits: { maxFileSzie: 10 } as never }, async () => null), /formLimits has no option "maxFileSzie"/);
    app.post("/d", { formLimits: { maxFiles: 0, spoolThreshold: 0 } }, async () => null);
    assert.equal(internalRoute(app.routes[0]).formLimits.maxFiles, 0);
    assert.equal(internalRoute(app.routes[0]).formLimits.maxFileSize, 10 * 1024 * 1024, "the rest keep their defaults");
  });

  test("a route that takes no files refuses one", async () => {
    const client = await TestClient.start(app, { poolSize: 1 });
    try {
      assert.deepEqual((await client.post("/no-files", { form: { name: "x" }, files: {} })).json(), { name: "x" });
      const res = await client.post("/no-files", { form: { name: "x" }, files: { f: new Blob(["x"]) } });
      assert.equal(res.status, 413);
      assert.equal(res.json().detail, "Too many files: this route takes at most 0");
    } finally {
      await client.close();
    }
  });
});
