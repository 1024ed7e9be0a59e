// offload() in a process that serves several apps at once (a test file with a TestClient per app):
// each app's blocking functions run on its own pool, whichever app started last.
import assert from "node:assert/strict";
import { test } from "node:test";
import { TestClient } from "loopwise/testing";
import { app as lanesApp } from "../fixtures/lanes-app.ts";
import { app as signupApp } from "../../docs/examples/before-it-ships/app.ts";

test("each app's offload() runs on its own pool, not on the pool started last", async () => {
  const lanes = await TestClient.start(lanesApp, { poolSize: 1 });
  const signup = await TestClient.start(signupApp, { poolSize: 1 });
  let signupClosed = false;
  try {
    // The pool started last is the signup app's: its workers never imported the lanes app.
    const offloaded = await lanes.get("/offload");
    assert.equal(offloaded.status, 200, `${offloaded.text} ${offloaded.error?.message ?? ""}`);
    assert.notEqual(offloaded.json().threadId, offloaded.json().handlerThreadId);
    const signed = await signup.post("/signup/ada");
    assert.equal(signed.status, 200, `${signed.text} ${signed.error?.message ?? ""}`);
    assert.equal(signed.json().hash.length, 64);
    await signup.close();
    signupClosed = true;
    // With the later app gone, the first still has its pool.
    assert.equal((await lanes.get("/offload")).status, 200);
  } finally {
    if (!signupClosed) await signup.close();
    await lanes.close();
  }
});
