// A `response` schema compiles to a serialiser only where its output is JSON.stringify's, byte
// for byte, of the validated value; everything else keeps the JSON encoder.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import * as v from "valibot";
import { z } from "zod";
import { TestClient } from "loopwise/testing";
import { encodeJson } from "../../src/http/json-encoding.ts";
import { schemaSerializer } from "../../src/http/schema-serializer.ts";
import { app, cases, Counts, Order } from "../fixtures/serializer-app.ts";

describe("the compiled serialiser", () => {
  const serialize = schemaSerializer(Order)!;

  test("compiles for an object of fields, nested arrays and nullable fields, once per schema", () => {
    assert.equal(typeof serialize, "function");
    assert.equal(schemaSerializer(Order), serialize);
  });

  test("writes JSON.stringify's bytes for any value the schema accepts, whatever the input's key order or extra fields", () => {
    // Short and long strings (the writer checks them two ways), any code unit, lone surrogates included.
    const text = fc.oneof(
      fc.string(),
      fc.string({ unit: "binary" }),
      fc.string({ unit: "binary", minLength: 40, maxLength: 120 }),
      fc.string({ minLength: 40, maxLength: 120 }),
      fc.constantFrom("", '"', "\\", "\u2028", "\ud800", "\u0000", "\u007f", "é🌍"),
    );
    const number = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(-0, 1e21, 5e-324));
    const item = fc.record({
      sku: text,
      quantity: fc.integer(),
      price: number,
      tags: fc.array(text, { maxLength: 4 }),
      extra: fc.anything(),
    });
    const input = fc.record(
      {
        extra: fc.anything(),
        items: fc.array(item, { maxLength: 5 }),
        id: fc.maxSafeInteger(),
        reference: text,
        status: fc.constantFrom("pending", "paid"),
        kind: fc.constant("order"),
        note: fc.option(text),
        coupon: fc.option(text, { nil: undefined }),
        total: number,
        paid: fc.boolean(),
        address: fc.option(fc.record({ city: text, street: text })),
      },
      { requiredKeys: ["items", "id", "reference", "status", "kind", "note", "total", "paid", "address"] },
    );
    fc.assert(
      fc.property(input, (value) => {
        const valid = Order.parse(value);
        assert.equal(serialize(valid), JSON.stringify(valid));
      }),
      { numRuns: 300 },
    );
  });

  test("keys that look like array indexes come first, in JavaScript's order, as JSON.stringify writes them", () => {
    const Keys = z.object({ b: z.string(), "10": z.number(), a: z.boolean().optional(), "2": z.null(), "-1": z.string() });
    const value = Keys.parse({ "-1": "m", a: true, "2": null, b: "x", "10": 1 });
    assert.equal(schemaSerializer(Keys)!(value), JSON.stringify(value));
    assert.match(JSON.stringify(value), /^\{"2":null,"10":1,/);
  });

  test("a value it cannot write goes to the JSON encoder, which says why", () => {
    assert.throws(() => serialize({ ...Order.parse(cases.plain!()), total: Number.NaN }), /NaN at \.total has no JSON form/);
    const withBigint = { ...Order.parse(cases.plain!()), id: 1n };
    assert.equal(serialize(withBigint), encodeJson(withBigint));
    assert.match(serialize(withBigint), /^\{"id":"1",/);
  });
});

describe("schemas that keep the JSON encoder", () => {
  const none: Record<string, unknown> = {
    "a record (keys in the input's order)": Counts,
    "a tuple": z.object({ pair: z.tuple([z.string(), z.number()]) }),
    "a union of objects": z.union([z.object({ a: z.string() }), z.object({ b: z.number() })]),
    "a loose object (extra keys kept)": z.looseObject({ a: z.string() }),
    "a recursive schema (a $ref)": (() => {
      const Node: z.ZodType = z.object({
        name: z.string(),
        get children() {
          return z.array(Node);
        },
      });
      return Node;
    })(),
    "a date": z.object({ at: z.date() }),
    "a transform": z.object({ n: z.string().transform((s) => s.length) }),
    "a bigint": z.object({ n: z.bigint() }),
    anything: z.object({ data: z.unknown() }),
    "another library (its output's key order is its own)": v.object({ a: v.string() }),
  };
  for (const [name, schema] of Object.entries(none)) {
    test(name, () => assert.equal(schemaSerializer(schema as never), undefined));
  }
});

describe("routes with a response schema, on both lanes", () => {
  let client: TestClient;
  before(async () => {
    client = await TestClient.start(app, { poolSize: 1 });
  });
  after(() => client.close());

  for (const lane of ["loop", "worker"]) {
    for (const name of ["plain", "extra", "getters"]) {
      test(`${lane}: ${name} is answered with the bytes of JSON.stringify of the validated value`, async () => {
        const res = await client.get(`/${lane}/order?case=${name}`);
        assert.equal(res.status, 200);
        assert.equal(res.headers["content-type"], "application/json");
        assert.equal(res.text, JSON.stringify(Order.parse(cases[name]!())));
      });
    }
    for (const name of ["bigint", "nan", "missing"]) {
      test(`${lane}: ${name} is refused by the schema: a 500 whose reason goes to the log`, async () => {
        const res = await client.get(`/${lane}/order?case=${name}`);
        assert.equal(res.status, 500);
        assert.deepEqual(res.json(), { detail: "Internal Server Error" });
      });
    }
  }

  test("a schema that falls back answers as before: the record's keys in the handler's order", async () => {
    const res = await client.get("/loop/counts");
    assert.equal(res.text, JSON.stringify({ counts: { "1": 3, b: 1, a: 2 } }));
  });
});
