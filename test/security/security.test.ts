// The security dependencies: what each reads, the 401 and its challenge for missing or malformed
// credentials (the attacker's headers included), the OAuth2 form's 422s, and what they declare in
// /openapi.json. Through the in-process client, on both lanes.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { serve } from "loopwise";
import { compareSecrets, httpBasic, apiKeyHeader, oauth2PasswordBearer } from "loopwise/security";
import { TestClient } from "loopwise/testing";
import { captureLogs } from "../helpers.ts";
import { decodeBasic } from "../../src/security/http-auth.ts";
import { app } from "../fixtures/security-app.ts";

let client: TestClient;
before(async () => {
  client = await TestClient.start(app, { poolSize: 1 });
});
after(() => client.close());

const auth = (value: string) => ({ headers: { authorization: value } });
const basic = (text: string | Buffer) => `Basic ${Buffer.from(text).toString("base64")}`;

async function refused(path: string, headers: Record<string, string>, challenge: string) {
  const res = await client.get(path, { headers });
  assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}: ${res.text}`);
  assert.deepEqual(res.json(), { detail: "Not authenticated" });
  assert.equal(res.headers["www-authenticate"], challenge);
}

describe("HTTP bearer", () => {
  test("gives the scheme and token, on both lanes", async () => {
    for (const path of ["/bearer", "/worker/bearer"]) {
      const res = await client.get(path, auth("Bearer abc.def-ghi_~+/="));
      assert.deepEqual(res.json(), { scheme: "Bearer", credentials: "abc.def-ghi_~+/=" }, path);
    }
    // The scheme is case-insensitive; spaces around the token are not part of it.
    assert.deepEqual((await client.get("/bearer", auth("bearer    tok  "))).json(), { scheme: "bearer", credentials: "tok" });
  });

  test("missing, empty, another scheme, a token with spaces or bytes outside ASCII: 401 with a Bearer challenge", async () => {
    for (const path of ["/bearer", "/worker/bearer"]) {
      await refused(path, {}, "Bearer");
      for (const value of [
        "Bearer",
        "Bearer ",
        "   ",
        "Basic YTpi",
        "Token abc",
        "Bearer a b",
        "Bearer\tab\tc",
        "Bearer t\u00e9",
        "Bearer \u00ff\u00fe",
      ]) {
        await refused(path, { authorization: value }, "Bearer");
      }
    }
  });

  test("autoError: false gives undefined instead of a 401", async () => {
    assert.deepEqual((await client.get("/optional")).json(), { auth: null });
    assert.deepEqual((await client.get("/optional", auth("Bearer x"))).json(), { auth: { scheme: "Bearer", credentials: "x" } });
  });
});

describe("HTTP basic", () => {
  test("gives username and password, UTF-8 and colons in the password included", async () => {
    assert.deepEqual((await client.get("/basic", auth(basic("ada:s3:cr:et")))).json(), { username: "ada", password: "s3:cr:et" });
    assert.deepEqual((await client.get("/worker/basic", auth(basic("zoë:pâss")))).json(), { username: "zoë", password: "pâss" });
    assert.deepEqual((await client.get("/basic", auth(basic(":")))).json(), { username: "", password: "" });
  });

  test("bad base64, bytes that are not UTF-8, no colon, control characters: 401 with the realm's challenge", async () => {
    const bad = [
      "Basic",
      "Basic !!!!",
      `Basic ${Buffer.from("ada:pw").toString("base64")}=`, // one "=" too many
      "Basic YW*hOnB3",
      basic(Buffer.from([0x61, 0x3a, 0xff, 0xfe])), // "a:" then bytes that are not UTF-8
      basic("no colon here"),
      basic("ada:pa\u0000ss"),
      basic("ada\n:pass"),
      "Bearer abc",
    ];
    for (const value of bad) {
      await refused("/basic", { authorization: value }, 'Basic realm="tests"');
      await refused("/worker/basic", { authorization: value }, "Basic");
    }
  });

  test("decodeBasic refuses what Node's lenient base64 decoder would guess at", () => {
    assert.deepEqual(decodeBasic("YTpi"), { username: "a", password: "b" });
    assert.equal(decodeBasic("YTpi\u00e9"), undefined);
    assert.equal(decodeBasic("Y"), undefined);
    assert.equal(decodeBasic("YTp i"), undefined);
  });

  test("a realm that would break the challenge header is refused when declared", () => {
    assert.throws(() => httpBasic({ realm: 'a"b' }), /realm must be printable ASCII/);
    assert.throws(() => httpBasic({ realm: "a\r\nSet-Cookie: x=1" }), /realm must be printable ASCII/);
  });
});

describe("OAuth2 password bearer and its form", () => {
  test("the token of a bearer header, also through a sub-dependency", async () => {
    assert.deepEqual((await client.get("/oauth", auth("Bearer t1"))).json(), { token: "t1" });
    assert.deepEqual((await client.get("/nested", auth("Bearer t2"))).json(), { name: "t2" });
    await refused("/oauth", {}, "Bearer");
    await refused("/nested", { authorization: "Basic YTpi" }, "Bearer");
  });

  const form = (body: string, type = "application/x-www-form-urlencoded") => client.post("/token", { body, headers: { "content-type": type } });

  test("reads the urlencoded form, scopes split on spaces", async () => {
    const res = await form("grant_type=password&username=ada&password=p%26w&scope=read%20write  admin&client_id=cli");
    assert.deepEqual(res.json(), {
      grantType: "password",
      username: "ada",
      password: "p&w",
      scopes: ["read", "write", "admin"],
      clientId: "cli",
    });
    assert.deepEqual((await form("username=ada&password=")).json().scopes, []);
  });

  test("missing fields, a repeated field, a wrong grant_type, JSON instead of a form: 422 in FastAPI's shape", async () => {
    const missing = await form("username=ada");
    assert.equal(missing.status, 422);
    assert.deepEqual(missing.json().detail, [{ type: "missing", loc: ["body", "password"], msg: "Field required", input: null }]);
    const repeated = await form("username=a&username=b&password=p");
    assert.deepEqual(
      repeated.json().detail.map((d: { loc: string[]; type: string }) => [d.loc, d.type]),
      [[["body", "username"], "string_type"]],
    );
    const grant = await form("grant_type=client_credentials&username=a&password=p");
    assert.deepEqual(grant.json().detail[0].loc, ["body", "grant_type"]);
    const json = await client.post("/token", { json: { username: "a", password: "p" } });
    assert.equal(json.status, 422);
    assert.deepEqual(
      json.json().detail.map((d: { loc: string[] }) => d.loc[1]),
      ["username", "password"],
    );
    assert.equal((await client.post("/token")).status, 422);
  });

  test("a token route is required", () => {
    assert.throws(() => oauth2PasswordBearer({} as never), /tokenUrl/);
  });
});

describe("API keys", () => {
  test("in a header, the query string (even past a query schema that does not declare it) and a cookie", async () => {
    assert.deepEqual((await client.get("/key/header", { headers: { "x-api-key": "k1" } })).json(), { key: "k1" });
    assert.deepEqual((await client.get("/key/query", { query: { api_key: "k2", q: "x" } })).json(), { key: "k2", query: { q: "x" } });
    assert.deepEqual((await client.get("/key/query", { query: { api_key: ["first", "second"] } })).json().key, "first");
    assert.deepEqual((await client.get("/key/cookie", { cookies: { session: "k3" } })).json(), { key: "k3" });
  });

  test("missing or empty: 401 with an APIKey challenge", async () => {
    await refused("/key/header", {}, "APIKey");
    await refused("/key/header", { "x-api-key": "" }, "APIKey");
    await refused("/key/query", {}, "APIKey");
    assert.equal((await client.get("/key/query", { query: { api_key: "" } })).status, 401);
    await refused("/key/cookie", { cookie: "other=1" }, "APIKey");
    await refused("/key/cookie", { cookie: "session=" }, "APIKey");
  });

  test("a name is required", () => {
    assert.throws(() => apiKeyHeader({ name: "" }), /name must be a non-empty string/);
  });
});

test("compareSecrets: equal or not, whatever the lengths", () => {
  assert.equal(compareSecrets("swordfish", "swordfish"), true);
  assert.equal(compareSecrets("swordfish", "swordfis"), false);
  assert.equal(compareSecrets("", ""), true);
  assert.equal(compareSecrets(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
  assert.equal(compareSecrets("a".repeat(10_000), "b"), false);
});

describe("/openapi.json", () => {
  let doc: any;
  before(async () => {
    doc = (await client.get("/openapi.json")).json();
  });

  test("is valid, with every scheme under components.securitySchemes", async () => {
    const result = await new Validator().validate(doc);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.deepEqual(doc.components.securitySchemes, {
      HTTPBearer: { type: "http", scheme: "bearer" },
      OptionalBearer: { type: "http", scheme: "bearer" },
      HTTPBasic: { type: "http", scheme: "basic" },
      BareBasic: { type: "http", scheme: "basic" },
      OAuth2PasswordBearer: {
        type: "oauth2",
        flows: { password: { tokenUrl: "/token", scopes: { read: "Read things" } } },
        description: "Log in at /token",
      },
      APIKeyHeader: { type: "apiKey", in: "header", name: "X-API-Key" },
      APIKeyQuery: { type: "apiKey", in: "query", name: "api_key" },
      APIKeyCookie: { type: "apiKey", in: "cookie", name: "session" },
    });
  });

  test("each operation requires the schemes of its dependencies, sub-dependencies included", () => {
    assert.deepEqual(doc.paths["/bearer"].get.security, [{ HTTPBearer: [] }]);
    assert.deepEqual(doc.paths["/nested"].get.security, [{ OAuth2PasswordBearer: [] }]);
    assert.deepEqual(doc.paths["/either"].get.security, [{ APIKeyHeader: [] }, { APIKeyCookie: [] }]);
    assert.equal(doc.paths["/open"].get.security, undefined);
  });

  test("the token route documents its form body", () => {
    const body = doc.paths["/token"].post.requestBody;
    const schema = body.content["application/x-www-form-urlencoded"].schema;
    assert.deepEqual(schema.required, ["username", "password"]);
    assert.equal(schema.properties.password.format, "password");
  });
});

describe("over a real socket", () => {
  test("raw bytes outside ASCII in the Authorization header: a 401, and the server answers on", async () => {
    const server = await serve(app, { port: 0, poolSize: 1, logWrite: captureLogs().write });
    try {
      const raw = (header: Buffer) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(server.port, "127.0.0.1", () => {
            socket.write(
              Buffer.concat([
                Buffer.from("GET /bearer HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: "),
                header,
                Buffer.from("\r\n\r\n"),
              ]),
            );
          });
          let reply = "";
          socket.on("data", (d) => (reply += d.toString("latin1")));
          socket.on("end", () => resolve(reply));
          socket.on("error", reject);
        });
      for (const header of [
        Buffer.from([0x42, 0x65, 0x61, 0x72, 0x65, 0x72, 0x20, 0xff, 0xfe, 0x80]), // "Bearer " then bytes that are not UTF-8
        Buffer.concat([Buffer.from("Bearer t"), Buffer.from("é", "utf8")]),
        Buffer.concat([Buffer.from("Basic "), Buffer.from(Buffer.from([0x61, 0x3a, 0xc3]).toString("base64"))]),
      ]) {
        const reply = await raw(header);
        assert.match(reply, /^HTTP\/1.1 401 /, reply);
        assert.match(reply, /www-authenticate: Bearer/i);
      }
      assert.equal((await raw(Buffer.from("Bearer fine"))).split("\r\n")[0], "HTTP/1.1 200 OK");
    } finally {
      await server.close();
    }
  });
});
