// The OpenAPI document passes a validator, documents inputs, responses and the 422, and Swagger
// UI at /docs, served from the installed package, runs an operation live in a real browser.
import assert from "node:assert/strict";
import { App as SourceApp } from "../../src/app/app.ts";
import { builtinRoutes } from "../../src/openapi/docs-routes.ts";
import { after, before, describe, test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { App, serve, type RunningServer } from "loopwise";
import { TestClient } from "loopwise/testing";
import { openApiPath } from "../../src/openapi/openapi-document.ts";
import { launchBrowser, tryItOut } from "../browser.ts";
import { app as depsApp } from "../fixtures/deps-app.ts";
import { app } from "../fixtures/typed-app.ts";
import { captureLogs, internalRoute, request } from "../helpers.ts";

describe("/openapi.json", () => {
  let client: TestClient;
  let doc: any;
  before(async () => {
    client = await TestClient.start(app, { poolSize: 1 });
    doc = (await client.get("/openapi.json")).json();
  });
  after(() => client.close());

  test("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.equal(validator.version, "3.1");
    assert.deepEqual(doc.info, { title: "Typed", version: "1.2.3" });
  });

  test("documents parameters from the schemas, with tags, summaries and operation ids", () => {
    const list = doc.paths["/items"].get;
    assert.deepEqual(list.tags, ["items"]);
    assert.equal(list.summary, "List Items");
    assert.equal(list.operationId, "list_items_items_get");
    assert.deepEqual(
      list.parameters.map((p: any) => [p.name, p.in, p.required, p.schema.type]),
      [
        ["limit", "query", false, "integer"],
        ["done", "query", false, "boolean"],
        ["tag", "query", false, "array"],
      ],
    );
    const me = doc.paths["/me"].get;
    assert.deepEqual(
      me.parameters.map((p: any) => [p.name, p.in, p.required]),
      [
        ["x-token", "header", true],
        ["session", "cookie", true],
      ],
    );
    assert.deepEqual(doc.paths["/items/{id}"].get.parameters[0], {
      name: "id",
      in: "path",
      required: true,
      schema: { type: "integer", minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
    });
  });

  test("documents the body, the success response and the 422 as HTTPValidationError", () => {
    const create = doc.paths["/items"].post;
    assert.deepEqual(create.requestBody.content["application/json"].schema.required, ["name", "price"]);
    assert.equal(create.responses["201"].description, "Created");
    assert.deepEqual(create.responses["422"].content["application/json"].schema, { $ref: "#/components/schemas/HTTPValidationError" });
    assert.deepEqual(doc.components.schemas.HTTPValidationError.properties.detail.items, { $ref: "#/components/schemas/ValidationError" });
    assert.deepEqual(doc.components.schemas.ValidationError.required, ["loc", "msg", "type"]);
    const pub = doc.paths["/public/{id}"].get;
    assert.deepEqual(Object.keys(pub.responses["200"].content["application/json"].schema.properties), ["id", "name"]);
    assert.equal(pub.responses["422"], undefined, "a route without declared inputs cannot answer 422");
  });

  test("a router's tags and an app's own documentation routes", async () => {
    const deps = await TestClient.start(depsApp, { poolSize: 1 });
    try {
      const depsDoc = (await deps.get("/openapi.json")).json();
      assert.deepEqual(depsDoc.paths["/admin/stats"].get.tags, ["admin"]);
      assert.equal((await new Validator().validate(depsDoc)).valid, true);
    } finally {
      await deps.close();
    }
    assert.equal(openApiPath("/a/:id(^\\d+)/b/:name/*"), "/a/{id}/b/{name}/{wildcard}");
  });

  test("an app can move or turn off /openapi.json, /docs and /redoc; a user route takes precedence", () => {
    const builtins = (app: SourceApp) => [...builtinRoutes(app.routes, app.docsOptions, app.errors).keys()];
    assert.deepEqual(builtins(new SourceApp({ openapiUrl: null })), []);
    assert.deepEqual(builtins(new SourceApp({ openapiUrl: "/api/schema.json", docsUrl: null, redocUrl: null })), ["GET /api/schema.json"]);
    assert.deepEqual(builtins(new SourceApp({ openapiUrl: "/schema.json", docsUrl: null, redocUrl: "/reference" })), [
      "GET /reference",
      "GET /reference/redoc.standalone.js",
      "GET /schema.json",
    ]);
    // The request handler tries the app's own routes first: a user route on /docs wins.
    const own = new App();
    own.get("/docs", async () => "mine");
    const found = own.match("GET", "/docs");
    assert.ok(found.kind === "route" && internalRoute(found.route).id === 0);
  });
});

describe("/docs in a real browser", () => {
  let server: RunningServer;
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, logWrite: captureLogs().write });
  });
  after(() => server.close());

  test("Swagger UI comes from the installed package, not a CDN", async () => {
    const page = await request(server.url + "/docs");
    assert.equal(page.status, 200);
    assert.match(page.text, /<script src="\/docs\/swagger-ui-bundle.js">/);
    assert.doesNotMatch(page.text, /https?:\/\//);
    const bundle = await request(server.url + "/docs/swagger-ui-bundle.js");
    assert.equal(bundle.status, 200);
    assert.match(String(bundle.headers["content-type"]), /javascript/);
    assert.ok(bundle.text.length > 100_000);
  });

  test("expands an operation, tries it out and shows the live response", { timeout: 60_000 }, async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const external: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith(server.url) && !r.url().startsWith("data:")) external.push(r.url());
      });
      await page.goto(server.url + "/docs");
      const operation = page.locator("#operations-items-list_items_items_get");
      const result = await tryItOut(operation, { fill: () => operation.locator('tr[data-param-name="limit"] input').fill("7") });
      assert.equal(result.status, "200");
      const body = JSON.parse(result.body);
      assert.equal(body.limit, 7);
      assert.deepEqual(external, [], "the page fetched nothing from outside the server");
    } finally {
      await browser.close();
    }
  });
});
