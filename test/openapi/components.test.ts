// OpenAPI for generators: schemas named by Zod's `.meta({ id })` become components used through
// `$ref`, declared `responses` are documented, `info` carries contact, license, servers and tag
// descriptions; openapi-typescript makes named types of them and Redocly's recommended rules
// find nothing but what the app chose not to declare (security, a 4xx on routes with no input).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { Validator } from "@seriousme/openapi-schema-validator";
import { App, openApiDocument } from "loopwise";
import { TestClient } from "loopwise/testing";
import openapiTS, { astToString } from "openapi-typescript";
import { z } from "zod";
import { app } from "../fixtures/client-app.ts";

const described = {
  title: "Shop",
  version: "2.0.0",
  summary: "Items and users",
  termsOfService: "https://shop.example/terms",
  contact: { name: "Shop team", email: "team@shop.example" },
  license: { name: "MIT", identifier: "MIT" },
  servers: [{ url: "https://api.shop.example", description: "production" }],
  tags: [{ name: "users", description: "People who buy" }],
};
const doc: any = openApiDocument(app.routes, { ...described, rootPath: "/shop" });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

test("named schemas are components, used through $ref, and the document is valid", async () => {
  const result = await new Validator().validate(doc);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  assert.deepEqual(Object.keys(doc.components.schemas).sort(), ["HTTPValidationError", "Item", "NewItem", "NotFound", "ValidationError"]);
  assert.equal(doc.components.schemas.Item.description, "An item of the shop");
  const one = doc.paths["/items/{id}"].get;
  assert.deepEqual(one.responses["200"].content["application/json"].schema, ref("Item"));
  assert.deepEqual(one.responses["404"], { description: "Not Found", content: { "application/json": { schema: ref("NotFound") } } });
  assert.deepEqual(doc.paths["/items"].get.responses["200"].content["application/json"].schema, { type: "array", items: ref("Item") });
  assert.deepEqual(doc.paths["/items"].post.requestBody.content["application/json"].schema, ref("NewItem"));
  // Every ref points at a component that is there.
  for (const [, name] of JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) assert.ok(doc.components.schemas[name!], name);
});

test("info, servers and tags as the app describes them; the rootPath goes first", () => {
  assert.deepEqual(doc.info, {
    title: "Shop",
    summary: "Items and users",
    termsOfService: "https://shop.example/terms",
    contact: { name: "Shop team", email: "team@shop.example" },
    license: { name: "MIT", identifier: "MIT" },
    version: "2.0.0",
  });
  assert.deepEqual(doc.servers, [{ url: "/shop" }, { url: "https://api.shop.example", description: "production" }]);
  assert.deepEqual(doc.tags, [{ name: "users", description: "People who buy" }]);
});

test("bad metadata is refused when the app is made", () => {
  assert.throws(() => new App({ license: { name: "" } }), /license needs a name/);
  assert.throws(() => new App({ license: { name: "MIT", identifier: "MIT", url: "https://x" } }), /identifier or a url, not both/);
  assert.throws(() => new App({ servers: [{ url: "" }] }), /servers\[0\] needs a url/);
  assert.throws(() => new App({ tags: [{ name: "a" }, { name: "a" }] }), /described twice/);
  assert.throws(() => new App({ contact: "me" as never }), /contact must be an object/);
  assert.throws(() => new App({ title: 3 as never }), /title must be a string/);
  assert.throws(() => new App().get("/x", { responses: { 99: z.string() } }, () => ""), /"responses" key "99" is not an HTTP status/);
  assert.throws(() => new App().get("/x", { responses: { 404: {} as never } }, () => ""), /responses\[404\] must be a Standard Schema/);
});

test("a schema that reads differently as input and output gets two names, as FastAPI's", async () => {
  const Settings = z.object({ theme: z.string().default("light") }).meta({ id: "Settings" });
  const two = new App().put("/settings", { body: Settings, response: Settings }, (req) => req.body);
  const document: any = openApiDocument(two.routes);
  assert.ok(document.components.schemas["Settings-Input"]);
  assert.deepEqual(document.components.schemas["Settings-Output"].required, ["theme"]);
  assert.deepEqual(document.paths["/settings"].put.requestBody.content["application/json"].schema, ref("Settings-Input"));
  assert.equal((await new Validator().validate(document)).valid, true);
});

test("a named query schema still documents its parameters one by one, and still coerces", async () => {
  assert.deepEqual(
    doc.paths["/items"].get.parameters.map((p: any) => [p.name, p.in, p.required, p.schema.type]),
    [
      ["limit", "query", false, "integer"],
      ["tag", "query", false, "string"],
    ],
  );
  const client = await TestClient.start(app, { poolSize: 1 });
  try {
    assert.equal((await client.get("/items?limit=1")).json().length, 1);
    assert.equal((await client.get("/items?limit=99")).status, 422);
  } finally {
    await client.close();
  }
});

test("openapi-typescript makes a named type of each component, and the operations use them", async () => {
  const types = astToString(await openapiTS(doc));
  for (const name of ["Item", "NewItem", "NotFound", "HTTPValidationError"]) assert.match(types, new RegExp(`^\\s+${name}: \\{`, "m"), name);
  assert.match(types, /"application\/json": components\["schemas"\]\["Item"\];/);
  assert.match(types, /"application\/json": components\["schemas"\]\["NotFound"\];/);
  assert.match(types, /"application\/json": components\["schemas"\]\["NewItem"\];/);
});

test("Redocly's recommended rules report only what the app chose not to declare", async () => {
  const config = await createConfig({ extends: ["recommended"] });
  const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: "/openapi.json", config });
  const reported = new Set(problems.map((problem) => problem.ruleId));
  // No security scheme, and no 4xx on routes with nothing to validate and no declared error.
  assert.deepEqual([...reported].sort(), ["operation-4xx-response", "security-defined"]);
  const without4xx = problems.filter((p) => p.ruleId === "operation-4xx-response").map((p) => p.location[0]?.pointer);
  assert.deepEqual(without4xx.sort(), [
    "#/paths/~1health/get/responses",
    "#/paths/~1odd/get/responses",
    "#/paths/~1users~1{name}/delete/responses",
    "#/paths/~1users~1{name}/get/responses",
  ]);
});

test("two different schemas of one id on different routes: the later is Id_2, each route pointing at its own", async () => {
  const First = z.object({ a: z.string() }).meta({ id: "Thing" });
  const Second = z.object({ b: z.number() }).meta({ id: "Thing" });
  const both = new App()
    .post("/first", { body: First }, async () => 1)
    .post("/second", { body: Second }, async () => 2)
    .post("/again", { body: First }, async () => 3);
  const document: any = openApiDocument(both.routes);
  const schemaOf = (path: string) => document.paths[path].post.requestBody.content["application/json"].schema;
  assert.deepEqual(schemaOf("/first"), ref("Thing"));
  assert.deepEqual(schemaOf("/second"), ref("Thing_2"));
  assert.deepEqual(schemaOf("/again"), ref("Thing"));
  assert.deepEqual(document.components.schemas.Thing_2.required, ["b"]);
  assert.equal((await new Validator().validate(document)).valid, true);
});
