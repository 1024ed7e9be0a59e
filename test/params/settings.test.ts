// settings(): typed values from the environment and a .env file, coerced as query strings are,
// the same in every worker; every missing or invalid variable named in one error, no value
// printed; and `--env-file` on the command line.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { threadId } from "node:worker_threads";
import { settings, SettingsError } from "loopwise";
import { TestClient } from "loopwise/testing";
import { z } from "zod";
import { fixture, runCli } from "../helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "loopwise-settings-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const Schema = z.object({
  databaseUrl: z.url(),
  port: z.number().int().default(8000),
  debug: z.boolean().default(false),
  origins: z.array(z.string()).default([]),
  limits: z.object({ rps: z.number() }).optional(),
});

test("fields read from their variables, coerced from strings, the environment over the file", () => {
  const envFile = file("a.env", '# comment\nexport DATABASE_URL="postgres://file/db"\nPORT=9000\nDEBUG=yes\n');
  const config = settings(Schema, { envFile, env: { PORT: "7000", ORIGINS: '["https://a.example"]', LIMITS: '{"rps": 5}' } });
  assert.deepEqual(config, { databaseUrl: "postgres://file/db", port: 7000, debug: true, origins: ["https://a.example"], limits: { rps: 5 } });
  assert.ok(Object.isFrozen(config));
});

test("a prefix, and names matched in any case", () => {
  const config = settings(z.object({ port: z.number() }), { envFile: null, prefix: "APP_", env: { app_port: "81", PORT: "1" } });
  assert.equal(config.port, 81);
});

test("every missing or invalid variable is listed at once, and no value is printed", () => {
  const secret = "s3cret-value-that-must-not-leak";
  let error: unknown;
  try {
    settings(Schema, { envFile: null, env: { PORT: secret, ORIGINS: "not json", DEBUG: "maybe" } });
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof SettingsError);
  assert.deepEqual(
    error.problems.map((p) => p.variable),
    ["ORIGINS", "DATABASE_URL", "PORT", "DEBUG"],
  );
  assert.equal(error.problems.find((p) => p.variable === "DATABASE_URL")?.message, "missing");
  assert.match(error.message, /^4 settings missing or invalid:\n {2}ORIGINS: not valid JSON/);
  assert.doesNotMatch(error.message, new RegExp(secret));
});

test("a file named on purpose must exist; the default .env may be absent; an async schema is refused", () => {
  assert.throws(() => settings(Schema, { envFile: join(dir, "nope.env"), env: {} }), /cannot read the env file/);
  assert.doesNotThrow(() => settings(z.object({}), { env: {} }));
  const asyncSchema = z.object({ a: z.string().refine(async () => true) });
  assert.throws(() => settings(asyncSchema, { envFile: null, env: { A: "x" } }), /validates synchronously/);
  assert.throws(() => settings(Schema, { prefix: 3 as never }), /prefix must be a string/);
});

test("the main thread's values reach every worker, even when the file changed since", async () => {
  const envFile = file("shop.env", 'SHOP_GREETING=from the file\nSHOP_HOSTS=["a","b"]\n');
  process.env.SETTINGS_ENV_FILE = envFile;
  const { app, config } = await import("../fixtures/settings-app.ts");
  assert.equal(config.greeting, "from the file");
  writeFileSync(envFile, "SHOP_GREETING=changed\n");
  const client = await TestClient.start(app, { poolSize: 2 });
  try {
    const answers = await Promise.all([1, 2, 3, 4].map(() => client.get("/settings")));
    for (const res of answers) {
      const { thread, ...values } = res.json();
      assert.notEqual(thread, threadId, "ran in a worker");
      assert.deepEqual(values, { greeting: "from the file", port: 8000, debug: false, hosts: ["a", "b"] });
    }
  } finally {
    await client.close();
    delete process.env.SETTINGS_ENV_FILE;
    delete process.env.SHOP_GREETING;
    delete process.env.SHOP_HOSTS;
  }
});

test("the command refuses to start, listing each problem; --env-file fills the environment first", async () => {
  const broken = await runCli(["routes", fixture("settings-broken-app.ts")], { PORT: "99999" });
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /3 settings missing or invalid:\n {2}DATABASE_URL: missing\n {2}PORT: .*\n {2}API_KEY: missing/);
  const envFile = file("cli.env", "DATABASE_URL=https://db.example\nAPI_KEY=0123456789abcdef0123\n");
  const run = await runCli(["run", fixture("settings-broken-app.ts"), "--env-file", envFile, "--port", "0"], { PORT: "99999" }, 30_000);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /1 setting missing or invalid:\n {2}PORT: /);
  // Node itself looks for a file named after --env-file even past the script's path (and exits 9
  // when it is missing, before the command runs): either way, the command never starts.
  const missing = await runCli(["run", fixture("settings-broken-app.ts"), "--env-file", join(dir, "none.env")]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /none\.env: not found|--env-file: cannot read the env file/);
});
