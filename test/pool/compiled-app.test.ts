// A TypeScript app's workers import it compiled once by the main thread, with no loader of their
// own: the same handlers and keys as the main thread, import.meta naming the sources, stack
// traces pointing at the .ts file, and tsx as the fallback for what a compiled copy cannot load.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { serve, type App, type RunningServer } from "loopwise";
import { app } from "../fixtures/compiled-app.ts";
import { captureLogs, fixture, request } from "../helpers.ts";

describe("a TypeScript app compiled for its workers", () => {
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    server = await serve(app, { port: 0, poolSize: 2, maxPoolSize: 2, logWrite: logs.write });
  });
  after(async () => {
    assert.equal(await server.close(), true);
  });

  test("workers run the compiled copy, without the tsx flags of this process", async () => {
    const reply = await request(server.url + "/meta");
    assert.equal(reply.status, 200);
    assert.notEqual(reply.json.threadId, 0);
    assert.match(reply.json.runningFile, /^file:\/\/.*\/loopwise-app-[^/]+\/.*\/fixtures\/compiled-app\.ts\.mjs$/);
    assert.ok(
      process.execArgv.some((flag) => flag.includes("tsx")),
      "this test runs under --import tsx",
    );
    assert.ok(!reply.json.execArgv.some((flag: string) => flag.includes("tsx")), JSON.stringify(reply.json.execArgv));
  });

  test("import.meta names the source, in the app and in the modules it imports; enums compile", async () => {
    const { json } = await request(server.url + "/meta");
    const source = fixture("compiled-app.ts");
    assert.equal(json.url, pathToFileURL(source).href);
    assert.equal(json.filename, source);
    assert.equal(json.dirname, dirname(source));
    assert.equal(json.helper, pathToFileURL(fixture("compiled-helper.ts")).href);
    assert.equal(json.shade, "dark");
    assert.equal(json.lane, "worker");
  });

  test("a blocking function registered in an imported module has the same key in the workers", async () => {
    const reply = await request(server.url + "/double/21");
    assert.deepEqual(reply.json, { value: 42 });
  });

  test("a module imported lazily by a worker is compiled too", async () => {
    const reply = await request(server.url + "/lazy");
    assert.deepEqual(reply.json, { lazy: fixture("compiled-lazy.ts") });
  });

  test("the stack of an error thrown in a worker points at the .ts file and line", async () => {
    const reply = await request(server.url + "/throw");
    assert.equal(reply.status, 500);
    const line =
      readFileSync(fixture("compiled-app.ts"), "utf8")
        .split("\n")
        .findIndex((l) => l.includes('throw new Error("thrown in a compiled worker")')) + 1;
    await new Promise((resolve) => setImmediate(resolve));
    const logged = logs.err.join("\n");
    assert.match(logged, /thrown in a compiled worker/);
    assert.match(logged, new RegExp(`fixtures/compiled-app\\.ts:${line}:\\d+`));
    assert.doesNotMatch(logged, /\.ts\.mjs/);
  });

  test("the compiled copy is removed when the server stops", async () => {
    const { json } = await request(server.url + "/meta");
    const folder = new URL(".", json.runningFile).pathname.split("/").slice(0, 3).join("/");
    assert.match(folder, /loopwise-app-/);
    assert.ok(existsSync(folder));
    const other = await serve(app, { port: 0, poolSize: 1, maxPoolSize: 1, logWrite: captureLogs().write });
    const otherFolder = new URL(".", (await request(other.url + "/meta")).json.runningFile).pathname.split("/").slice(0, 3).join("/");
    assert.notEqual(otherFolder, folder, "each pool compiles into a folder of its own");
    await other.close();
    assert.ok(!existsSync(otherFolder));
    assert.ok(existsSync(folder), "the first server's copy is still in use");
  });
});

test("an app a compiled copy cannot load (a computed import path) starts its workers with tsx instead", async () => {
  const { app: tsxOnly } = await import("../fixtures/tsx-only-app.ts");
  const server = await serve(tsxOnly, { port: 0, poolSize: 2, maxPoolSize: 2, logWrite: captureLogs().write });
  try {
    const replies = await Promise.all([1, 2, 3].map(() => request(server.url + "/shade")));
    assert.ok(replies.every((r) => r.status === 200 && r.json.shade === "dark"));
    assert.ok(
      replies[0]!.json.execArgv.some((flag: string) => flag.includes("tsx")),
      "the workers kept the loader flags",
    );
  } finally {
    await server.close();
  }
});

test("a worker that needs no loader leaves out the flags that load tsx, and keeps the rest", async () => {
  const { flagsWithoutTsx } = await import("../../src/pool/module-loader.ts");
  assert.deepEqual(
    flagsWithoutTsx([
      "--import",
      "tsx",
      "--conditions=dev",
      "--import=tsx/esm",
      "--loader",
      "/x/node_modules/tsx/dist/loader.mjs",
      "--require",
      "tsx/cjs",
      "--import",
      "./otel.mjs",
    ]),
    ["--conditions=dev", "--import", "./otel.mjs"],
  );
  assert.deepEqual(flagsWithoutTsx(["--enable-source-maps", "--import", "tsxlike"]), ["--enable-source-maps", "--import", "tsxlike"]);
});

test("a JavaScript app that imports TypeScript starts its workers with the process's tsx flags", async () => {
  const { app: jsApp } = (await import(new URL("../fixtures/js-imports-ts-app.mjs", import.meta.url).href)) as { app: App };
  const server = await serve(jsApp, { port: 0, poolSize: 1, maxPoolSize: 1, logWrite: captureLogs().write });
  try {
    const reply = await request(server.url + "/shade");
    assert.deepEqual([reply.status, reply.json], [200, { shade: "dark" }]);
  } finally {
    await server.close();
  }
});

test("TypeScript apps whose pools start at once each get their compiled copy", async () => {
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => serve(app, { port: 0, poolSize: 1, maxPoolSize: 1, logWrite: captureLogs().write })));
  try {
    for (const server of [a!, b!, c!]) assert.equal((await request(server.url + "/double/2")).json.value, 4);
  } finally {
    await Promise.all([a!, b!, c!].map((s) => s.close()));
  }
});

test("the package's own entry is imported before the compiled app, so only the app's modules pay for source maps", async () => {
  type Compile = typeof import("../../src/pool/compile-app.ts");
  // From the built package, as a served app loads it: there "loopwise" is dist/index.js.
  const { compileApp } = (await import(new URL("../../dist/pool/compile-app.js", import.meta.url).href)) as Compile;
  const packageEntry = new URL("../../dist/index.js", import.meta.url).href;
  const importsPackage = await compileApp(pathToFileURL(fixture("compiled-app.ts")).href);
  const importsNothing = await compileApp(pathToFileURL(fixture("compiled-lazy.ts")).href);
  try {
    assert.deepEqual(importsPackage.preload, [packageEntry]);
    assert.deepEqual(importsNothing.preload, []);
  } finally {
    importsPackage.dispose();
    importsNothing.dispose();
  }
});
