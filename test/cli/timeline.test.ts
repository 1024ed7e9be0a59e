import assert from "node:assert/strict";
import { test } from "node:test";
import { renderTimeline } from "../../src/cli/timeline.ts";

test("the timeline draws waiting and running parts on a shared time axis", () => {
  const text = renderTimeline(
    "Timeline:",
    [
      { label: "GET /async/sleep", lane: "loop", sent: 0, ranFrom: 0, ranTo: 1000, done: 1000, status: 200 },
      { label: "GET /sync/hello", lane: "worker#1", sent: 100, ranFrom: 1000, ranTo: 1001, done: 1002, status: 200 },
    ],
    20,
  );
  const [title, axis, sleep, hello, legend] = text.split("\n");
  assert.equal(title, "Timeline:");
  assert.match(axis!, /0 ms.*1\.00 s/);
  assert.match(sleep!, /^GET \/async\/sleep loop {5}│█{20}│ sent at 0 ms, waited 0 ms, ran 1\.00 s/);
  assert.match(hello!, /^GET \/sync\/hello {2}worker#1 │ ░{18}█│ sent at 100 ms, waited 900 ms, ran 1 ms, answered at 1\.00 s \(200\)/);
  assert.match(legend!, /░ waiting .* █ handler running/);
});
