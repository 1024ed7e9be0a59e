// One stated encoding for values JSON cannot carry as they are (docs/responses.md), the same on
// every lane and for every JSON body; what has no JSON form is a 500 naming the route and the path.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fixture, request, spawnServer, until, type ChildServer } from "../helpers.ts";

let server: ChildServer;
before(async () => {
  server = await spawnServer(`${fixture("encoding-app.ts")}:app`, ["--pool-size", "1"]);
});
after(() => server.stop());

const encoded: Record<string, unknown> = {
  map: { counts: { a: 1, "2": 3 } },
  set: { tags: ["x", "y"] },
  bigint: { id: "9007199254740993" },
  bytes: { buffer: "aGk=", view: "AQL/", floats: [0.5, 2] },
  instance: { owner: { first: "Ada", last: "Lovelace", fullName: "Ada Lovelace" } },
  holes: [1, null, 3],
  dates: { at: "2026-01-02T00:00:00.000Z", url: "https://example.com/a?b=1" },
  plain: { id: 1, title: "plain", tags: ["a"] },
};

const refused: Record<string, RegExp> = {
  "nested-function": /a function \(format\) at \.items\[0\]\.format has no JSON form/,
  promise: /a Promise at \.rows has no JSON form: await it/,
  "map-object-key": /a Map key of type object \(JSON object keys are strings\) at \.byUser\.keys\(\)\[0\]/,
  nan: /NaN at \.average has no JSON form/,
  cycle: /a cycle\) at \.node\.self/,
  "empty-instance": /a Handle with no field or getter to show at \.handle/,
};

for (const lane of ["loop", "worker", "json"]) {
  describe(`returned ${lane === "json" ? "through json()" : `on the ${lane} lane`}`, () => {
    for (const [name, body] of Object.entries(encoded)) {
      test(`${name} is encoded as stated`, async () => {
        const reply = await request(`${server.url}/${lane}/${name}`);
        assert.equal(reply.status, lane === "json" ? 201 : 200);
        assert.deepEqual(reply.json, body);
      });
    }
    for (const [name, message] of Object.entries(refused)) {
      test(`${name} is a 500 whose log names the route and the path`, async () => {
        const path = `/${lane}/${name}`;
        const reply = await request(server.url + path);
        assert.equal(reply.status, 500);
        assert.deepEqual(reply.json, { detail: "Internal Server Error" });
        const line = await until(
          () => server.stderr.find((l) => l.includes(`"path":"${path}"`) && l.includes("JsonEncodingError")),
          `the log of ${path}`,
        );
        const logged = JSON.parse(line).msg as string;
        assert.match(logged, new RegExp(`^Exception in GET ${path.replace(/[/-]/g, "\\$&")} \\(lane=(loop|worker#1)\\):\\nJsonEncodingError: `));
        assert.match(logged, message);
      });
    }
  });
}

test("Server-Sent Events and JSON Lines encode their items the same way", async () => {
  const events = await request(`${server.url}/events`);
  assert.equal(events.text, 'data: {"tags":["a"],"id":"2"}\n\n');
  const lines = await request(`${server.url}/lines`);
  assert.equal(lines.text, '{"a":1}\n[null]\n');
});
