// The package as a new user gets it: packed as `npm publish` would pack it, checked by publint
// and Are the Types Wrong, installed from the tarball into a new project beside zod (from the
// npm registry), and used there: a TypeScript app served by the installed `loopwise` command,
// its /docs offline, and the optional parts (redoc, BullMQ) absent, saying how to get them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { installBudget, installInNewProject, megabytes, nameOf, packLoopwise, type InstalledProject } from "../bench/lib/install-footprint.ts";
import { request, runCli, spawnServer } from "./helpers.ts";

const bin = (name: string) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));
const budget = installBudget;
/** What the optional parts and the browser apps they came with would bring. */
const unwanted = ["redoc", "react", "react-dom", "mobx", "styled-components", "core-js", "@scarf/scarf", "swagger-ui-dist", "bullmq", "ioredis"];

const helloApp = `import { pbkdf2Sync } from "node:crypto";
import { App } from "loopwise";
import { requestId } from "loopwise/middleware";
import { z } from "zod";

interface Greeting {
  message: string;
}

export const app = new App({ title: "Hello" });
app.use(requestId());

app.get("/", async (): Promise<Greeting> => ({ message: "Hello World" }));

app.get("/items/:id", { params: z.object({ id: z.number().int() }) }, (req) => ({
  id: req.params.id,
  hash: pbkdf2Sync(String(req.params.id), "salt", 1_000, 16, "sha256").toString("hex"),
}));
`;

const helloTest = `import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient } from "loopwise/client";
import { TestClient } from "loopwise/testing";
import { app } from "./main.ts";

test("both lanes, through the TestClient", async () => {
  const client = await TestClient.start(app);
  try {
    assert.deepEqual((await client.get("/")).json(), { message: "Hello World" });
    const item = await client.get("/items/3");
    assert.equal(item.json().id, 3);
    assert.match(item.lane, /^worker#/);
  } finally {
    await client.close();
  }
});

test("loopwise/client, over the TestClient in memory", async () => {
  const client = await TestClient.start(app);
  try {
    const api = createClient<typeof app>(client);
    const { status, data } = await api.get("/items/:id", { params: { id: 4 } });
    assert.equal(status, 200);
    assert.equal((data as { id: number }).id, 4);
  } finally {
    await client.close();
  }
});
`;

const queueApp = `import { App } from "loopwise";

export const app = new App();
app.get("/report", { lane: "queue" }, (): { pages: number } => ({ pages: 3 }));
`;

const durableJobApp = `import { App } from "loopwise";
import { durableJob } from "loopwise/queue";

export const thumbnail = durableJob("thumbnail", (input: { photo: string }) => input.photo.length);
export const app = new App();
app.post("/photos", async () => ({ job: await thumbnail.enqueue({ photo: "a.png" }) }));
`;

describe("the published package", { timeout: 600_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), "loopwise-package-"));
  let tarball = "";
  let project: InstalledProject;
  const cli = () => join(project.dir, "node_modules", ".bin", "loopwise");

  before(() => {
    tarball = packLoopwise(scratch);
    project = installInNewProject([tarball, "zod"]);
    writeFileSync(join(project.dir, "main.ts"), helloApp);
    writeFileSync(join(project.dir, "main.test.ts"), helloTest);
    // As TypeScript advises for Node's type stripping: on Node 22.18+ the command loads main.ts without tsx.
    writeFileSync(
      join(project.dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { module: "nodenext", strict: true, verbatimModuleSyntax: true, allowImportingTsExtensions: true, noEmit: true },
      }),
    );
    writeFileSync(join(project.dir, "queue.ts"), queueApp);
    writeFileSync(join(project.dir, "jobs.ts"), durableJobApp);
  });
  after(() => {
    rmSync(scratch, { recursive: true, force: true });
    if (project) rmSync(project.dir, { recursive: true, force: true });
  });

  /** Runs a checker on the tarball; its report is the failure's message. */
  const check = (tool: string, args: string[]) => {
    const run = spawnSync(bin(tool), args, { encoding: "utf8" });
    assert.equal(run.status, 0, `${tool}:\n${run.stdout}${run.stderr}`);
  };

  test("publint finds nothing to fix, even as warnings", () => check("publint", ["run", tarball, "--strict"]));

  test("Are the Types Wrong finds nothing for ESM users", () => check("attw", [tarball, "--profile", "esm-only", "--format", "ascii"]));

  test(`npm i loopwise zod takes at most ${budget.megabytes} MB and ${budget.packages} packages besides zod, with no install script of its own`, (t) => {
    const { bytes, packages } = project.footprint;
    const besidesZod = packages.filter((p) => nameOf(p) !== "zod");
    t.diagnostic(
      `npm i loopwise zod: node_modules ${megabytes(bytes).toFixed(1)} MB, ${packages.length} packages (${besidesZod.length} besides zod)`,
    );
    assert.ok(megabytes(bytes) <= budget.megabytes, `${megabytes(bytes).toFixed(1)} MB`);
    assert.ok(besidesZod.length <= budget.packages, besidesZod.join(", "));
    assert.deepEqual(
      packages.filter((p) => unwanted.includes(nameOf(p))),
      [],
    );
    const { scripts = {} } = JSON.parse(readFileSync(join(project.dir, "node_modules", "loopwise", "package.json"), "utf8"));
    for (const hook of ["preinstall", "install", "postinstall", "prepare"]) assert.equal(scripts[hook], undefined, `scripts.${hook}`);
    assert.doesNotMatch(project.log, /^npm warn install-scripts\s+loopwise@/m);
  });

  test("a TypeScript app runs with the installed command: both lanes, validation, and /docs offline", async () => {
    const server = await spawnServer("main.ts:app", [], {}, { cli: cli(), cwd: project.dir });
    try {
      const hello = await request(`${server.url}/`);
      assert.deepEqual(hello.json, { message: "Hello World" });
      assert.ok(hello.headers["x-request-id"], "loopwise/middleware's requestId() ran");
      const item = await request(`${server.url}/items/7`);
      assert.equal(item.status, 200, item.text);
      assert.equal(item.json.id, 7);
      assert.equal((await request(`${server.url}/items/seven`)).status, 422);
      assert.match(server.access.find((line) => line.path === "/items/7")?.lane ?? "", /^worker#\d+$/);

      const docs = await request(`${server.url}/docs`);
      assert.equal(docs.status, 200);
      assert.doesNotMatch(docs.text, /https?:\/\//, "nothing from a CDN");
      for (const asset of ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"]) {
        const reply = await request(`${server.url}/docs/${asset}`);
        assert.equal(reply.status, 200, asset);
        assert.ok(Number(reply.headers["content-length"]) > 500, `${asset} has its content`);
      }
      assert.equal((await request(`${server.url}/openapi.json`)).json.info.title, "Hello");
    } finally {
      await server.stop();
    }
  });

  test("a test of the app runs with loopwise/testing's TestClient and loopwise/client, as the testing page shows", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=tap", "main.test.ts"], {
      cwd: project.dir,
      // Its own test run, not a part of this one (the runner tells its child processes apart by this variable).
      env: { ...process.env, NODE_TEST_CONTEXT: undefined },
      encoding: "utf8",
      timeout: 120_000,
    });
    const out = run.stdout + run.stderr;
    assert.equal(run.status, 0, out);
    assert.match(out, /^# pass 2$/m);
  });

  test("without redoc, /redoc says how to install it", async () => {
    const server = await spawnServer("main.ts:app", [], {}, { cli: cli(), cwd: project.dir });
    try {
      const page = await request(`${server.url}/redoc`);
      assert.equal(page.status, 501);
      assert.match(page.text, /<code>npm i redoc<\/code>/);
      assert.match(page.text, /href="\/docs"/);
      const bundle = await request(`${server.url}/redoc/redoc.standalone.js`);
      assert.equal(bundle.status, 501);
      assert.match(bundle.text, /npm i redoc/);
    } finally {
      await server.stop();
    }
  });

  for (const [file, what] of [
    ["queue.ts", /GET \/report runs on the queue lane/],
    ["jobs.ts", /the durable job "thumbnail" runs on the queue lane/],
  ] as const) {
    test(`without BullMQ, an app using the queue lane (${file}) stops at startup naming the npm command`, async () => {
      const result = await runCli(["run", `${file}:app`, "--port", "0"], {}, 60_000, { cli: cli(), cwd: project.dir });
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stderr, what);
      assert.match(result.stderr, /npm i bullmq ioredis/);
    });
  }
});
