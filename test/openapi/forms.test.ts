// Form bodies in the OpenAPI document (multipart with files as `format: binary`, urlencoded when
// the route accepts it), and /docs sending a file: Swagger UI, in a real browser, shows a file
// input for a `z.file()` field and its "Execute" uploads the chosen file to the server.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { openApiDocument, serve, type RunningServer } from "loopwise";
import { launchBrowser, tryItOut } from "../browser.ts";
import { app } from "../fixtures/uploads-app.ts";
import { captureLogs } from "../helpers.ts";

describe("form bodies in /openapi.json", () => {
  const doc = openApiDocument(app.routes) as any;

  test("a body with a file field is a multipart form, its files strings of format binary", async () => {
    const content = doc.paths["/profile"].post.requestBody.content;
    assert.deepEqual(Object.keys(content), ["multipart/form-data"]);
    const { properties, required } = content["multipart/form-data"].schema;
    assert.deepEqual(required, ["title", "age"]);
    assert.equal(properties.avatar.format, "binary");
    assert.equal(properties.avatar.type, "string");
    assert.equal(properties.attachments.items.format, "binary");
    assert.equal(properties.age.type, "integer");
    assert.equal((await new Validator().validate(doc)).valid, true);
  });

  test("the media types a route accepts are the ones documented", () => {
    assert.deepEqual(Object.keys(doc.paths["/login"].post.requestBody.content), ["application/x-www-form-urlencoded"]);
  });
});

describe("/docs uploads a file in a real browser", () => {
  let server: RunningServer;
  let dir: string;
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 1, logWrite: captureLogs().write });
    dir = mkdtempSync(join(tmpdir(), "loopwise-docs-upload-"));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the form has a file input, and Execute sends the file as multipart/form-data", { timeout: 60_000 }, async () => {
    const content = Buffer.from("a file chosen in the browser\n".repeat(1000));
    const file = join(dir, "report.txt");
    writeFileSync(file, content);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const sent: string[] = [];
      page.on("request", (r) => {
        if (r.method() === "POST") sent.push(r.headers()["content-type"] ?? "");
      });
      await page.goto(server.url + "/docs");
      const operation = page.locator("#operations-default-upload_attachment_attachments_post");
      const result = await tryItOut(operation, {
        opened: async () =>
          assert.equal(await operation.locator(".opblock-section-request-body .body-param-content-type select").inputValue(), "multipart/form-data"),
        fill: () => operation.locator('tr[data-property-name="file"] input[type="file"]').setInputFiles(file),
      });
      assert.equal(result.status, "201");
      const body = JSON.parse(result.body);
      assert.deepEqual(body, { filename: "report.txt", size: content.length, sha256: createHash("sha256").update(content).digest("hex") });
      assert.match(sent[0] ?? "", /^multipart\/form-data; boundary=/);
    } finally {
      await browser.close();
    }
  });
});
