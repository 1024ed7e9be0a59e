// examples/notes served by `loopwise run`, over real sockets: the acceptance items of the issue
// "The HTTP layer FastAPI users lean on" that belong to the real-app features (bearer auth
// declared in OpenAPI; a background task after each created note), and the health check.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { delay, request, spawnServer, type ChildServer } from "../helpers.ts";

const notesApp = fileURLToPath(new URL("../../examples/notes/main.ts", import.meta.url));

describe("examples/notes", () => {
  let server: ChildServer;
  before(async () => {
    server = await spawnServer(`${notesApp}:app`, ["--pool-size", "1"]);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  const create = (note: unknown, headers: Record<string, string> = {}) =>
    request(`${server.url}/notes`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(note) });

  test("1. GET /health → 200", async () => {
    assert.equal((await request(`${server.url}/health`)).status, 200);
  });

  test("3. POST /notes needs the bearer token: 401 without it, 201 with it", async () => {
    const anonymous = await create({ title: "t", body: "b" });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers["www-authenticate"], "Bearer");
    const wrong = await create({ title: "t", body: "b" }, { authorization: "Bearer wrong-token" });
    assert.equal(wrong.status, 401);
    const created = await create({ title: "Groceries", body: "milk" }, { authorization: "Bearer secret-token" });
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.json).sort(), ["body", "id", "title"]);
    assert.deepEqual({ title: created.json.title, body: created.json.body }, { title: "Groceries", body: "milk" });
    const invalid = await create({ title: 1 }, { authorization: "Bearer secret-token" });
    assert.equal(invalid.status, 422);
    const listed = await request(`${server.url}/notes`);
    assert.ok(listed.json.some((n: { id: number }) => n.id === created.json.id));
  });

  test("3. /openapi.json declares an HTTP bearer security scheme for POST /notes", async () => {
    const doc = (await request(`${server.url}/openapi.json`)).json;
    assert.deepEqual(doc.components.securitySchemes.HTTPBearer, { type: "http", scheme: "bearer" });
    assert.deepEqual(doc.paths["/notes"].post.security, [{ HTTPBearer: [] }]);
    assert.equal(doc.paths["/notes"].get.security, undefined);
  });

  test("4. after each created note, the audit list has its id within a second", async () => {
    for (const title of ["one", "two", "three"]) {
      const created = await create({ title, body: "." }, { authorization: "Bearer secret-token" });
      assert.equal(created.status, 201);
      const deadline = Date.now() + 1000;
      let audit: { noteId: number }[] = [];
      while (Date.now() < deadline) {
        audit = (await request(`${server.url}/audit`)).json;
        if (audit.some((entry) => entry.noteId === created.json.id)) break;
        await delay(25);
      }
      assert.ok(
        audit.some((entry) => entry.noteId === created.json.id),
        `note ${created.json.id} is not in the audit list a second later: ${JSON.stringify(audit)}`,
      );
    }
  });
});
