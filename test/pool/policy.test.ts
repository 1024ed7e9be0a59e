// The pool's scheduling policy, decision by decision, in virtual time: no thread, no timer.
// Each test plays the pool's part with PolicyBench and checks the commands that came out.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { backoffMs } from "../../src/pool/policy/backoff.ts";
import { maxBatch } from "../../src/pool/policy/policy.ts";
import { blockedLook, computingLook, PolicyBench } from "./policy-harness.ts";

describe("growth", () => {
  test("blocked workers with work waiting: the pool grows by what waits, a few starts at a time", () => {
    const bench = new PolicyBench({ coreSize: 2, maxSize: 40, cores: 2 }).startCore();
    const tasks = bench.arriveMany("/sleep", 40);
    assert.deepEqual(
      tasks.slice(0, 2).map((t) => bench.slotOf(t)),
      [2, 1],
    );
    assert.equal(bench.policy.queued, 38);
    bench.advance(4);
    assert.equal(bench.looks, 0, "the first look comes 5 ms after work starts waiting");
    bench.advance(1);
    assert.equal(bench.looks, 1);
    assert.deepEqual(bench.resizes, [{ kind: "grow", from: 2, to: 40, waiting: 38, cpuShare: 0.05, cores: 2 }]);
    // Two at a time (the cores, at least 2); the rest wait their turn.
    assert.deepEqual(bench.started.slice(2), [
      [3, "growth"],
      [4, "growth"],
    ]);
    bench.policy.workerReady(3, bench.at);
    assert.deepEqual(bench.started.at(-1), [5, "growth"], "the next starts as one is ready");
    assert.equal(bench.slotOf(tasks[2]!), 3, "the ready worker takes the oldest waiting task");
  });

  test("a first sighting is not enough: a worker is judged blocked when seen again in the same task", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 4 }).startCore();
    bench.arriveMany("/sleep", 3);
    bench.look = { cpuShare: 0.05, threads: { blocked: 0, computing: 0, unknown: 1 }, looksBlocked: true };
    bench.advance(5);
    assert.equal(bench.resizes.length, 0);
    bench.look = blockedLook;
    bench.advance(9);
    assert.equal(bench.resizes.length, 0, "the second look comes 10 ms after a first sighting");
    bench.advance(1);
    assert.equal(bench.resizes[0]?.kind, "grow");
  });

  test("without a view of the threads, two looks in a row must find the process idle", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 4 }).startCore();
    bench.arriveMany("/sleep", 3);
    bench.look = { cpuShare: 0.05, threads: undefined, looksBlocked: true };
    bench.advance(5);
    assert.equal(bench.resizes.length, 0);
    bench.advance(25);
    assert.equal(bench.resizes[0]?.kind, "grow");
  });

  test("computing workers never grow the pool past the cores", () => {
    const bench = new PolicyBench({ coreSize: 2, maxSize: 8, cores: 2 }).startCore();
    bench.look = computingLook;
    bench.arriveMany("/burn", 8);
    bench.advance(500);
    assert.equal(bench.policy.size, 2);
    assert.deepEqual(bench.resizes, []);
    assert.equal(bench.policy.blocked, false);
  });

  test("computing work may use the cores a smaller core leaves idle, and no more", () => {
    const bench = new PolicyBench({ coreSize: 16, maxSize: 256, cores: 64 }).startCore();
    bench.look = computingLook;
    bench.arriveMany("/burn", 400);
    bench.advance(5);
    assert.deepEqual(bench.resizes[0], { kind: "grow", from: 16, to: 64, waiting: 384, cpuShare: 1, cores: 64 });
    bench.readyAll();
    bench.advance(500);
    assert.equal(bench.policy.size, 64);
  });

  test("a growth worker that cannot start is not replaced, and growth pauses for a backoff", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 6, cores: 2 }).startCore();
    bench.arriveMany("/sleep", 6);
    bench.advance(5);
    assert.equal(bench.policy.size, 6);
    bench.policy.exited(2, { wasReady: false, requeue: [], crashed: undefined }, bench.at);
    assert.equal(bench.policy.size, 2, "the failed slot and the ones planned after it are given up; slot 3 still starts");
    const started = bench.started.length;
    bench.advance(backoffMs(1) - 10);
    assert.equal(bench.started.length, started, "no growth during the backoff");
    bench.advance(50);
    assert.ok(bench.started.length > started, "growth tries again after it");
  });
});

describe("retiring", () => {
  test("growth workers idle past the idle timeout are retired together, in one report; the core stays", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 4, idleTimeoutMs: 1000 }).startCore();
    const tasks = bench.arriveMany("/sleep", 4);
    bench.advance(5);
    bench.readyAll();
    bench.advance(100);
    for (const task of tasks) bench.finish(task, 100);
    bench.advance(999);
    assert.deepEqual(bench.retired, []);
    bench.advance(1000);
    assert.deepEqual(bench.retired.sort(), [2, 3, 4]);
    assert.equal(bench.policy.size, 1);
    bench.advance(1000);
    assert.deepEqual(bench.resizes.at(-1), { kind: "shrink", from: 4, to: 1, retired: 3, idleMs: 1000 });
  });

  test("the quick worker, idle past the idle timeout, is retired like a growth worker", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 1, idleTimeoutMs: 1000 }).startCore();
    bench.measure("/hello", 1);
    const sleeper = bench.arrive("/sleep");
    const hello = bench.arrive("/hello");
    bench.advance(30);
    bench.policy.workerReady(2, bench.at);
    bench.finish(hello, 1);
    bench.finish(sleeper, 1000);
    bench.advance(2500);
    assert.deepEqual(bench.retired, [2]);
    assert.equal(bench.policy.size, 1);
    assert.deepEqual(bench.resizes.at(-1), { kind: "shrink", from: 2, to: 1, retired: 1, idleMs: 1000 });
  });

  test("slots are reused from the lowest", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 4, idleTimeoutMs: 100 }).startCore();
    const first = bench.arriveMany("/sleep", 4);
    bench.advance(5);
    bench.readyAll();
    for (const task of first) bench.finish(task, 10);
    bench.advance(1000);
    assert.equal(bench.policy.size, 1);
    bench.arriveMany("/sleep", 3);
    bench.advance(30);
    assert.deepEqual(
      bench.started.slice(-2).map(([slot]) => slot),
      [2, 3],
    );
  });
});

describe("shedding by time", () => {
  test("a task whose expected wait is past the limit is refused at once, with a Retry-After estimate", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 1, maxQueueWaitMs: 1000 }).startCore();
    bench.measure("/slow", 400);
    bench.arrive("/slow");
    bench.arrive("/slow");
    bench.arrive("/slow");
    const refused = bench.arrive("/slow");
    assert.equal(refused.refusal?.reason, "wait");
    assert.ok(refused.refusal?.reason === "wait" && refused.refusal.retryAfterSeconds >= 1);
  });

  test("a task that waited past its limit by its turn is refused then, and never runs", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 1, maxQueueWaitMs: 300 }).startCore();
    const running = bench.arrive("/sleep");
    const waiting = bench.arrive("/sleep");
    bench.advance(400);
    bench.finish(running, 400);
    assert.equal(bench.shed.length, 1);
    assert.equal(bench.shed[0]![0], waiting);
    assert.equal(bench.slotOf(waiting), undefined);
  });

  test("under a sustained flood the limit drops to a tenth", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 1, maxQueueWaitMs: 1000 }).startCore();
    bench.measure("/work", 50);
    const first = bench.arrive("/work");
    bench.arrive("/work");
    assert.equal(bench.policy.queued, 1);
    bench.advance(1001);
    const late = bench.arrive("/work");
    assert.equal(late.maxWaitMs, 100, "a queue not empty for the whole limit is a standing queue");
    assert.ok(first.state === "held");
  });

  test("the queue's count cap refuses at once", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 1, maxQueue: 3 }).startCore();
    bench.arriveMany("/sleep", 4);
    assert.equal(bench.arrive("/sleep").refusal?.reason, "queue-full");
  });
});

describe("who goes first", () => {
  test("a quick target goes ahead of slower work that waits", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 1 }).startCore();
    bench.measure("/hello", 1);
    bench.measure("/sleep", 1000);
    const running = bench.arrive("/sleep");
    bench.arriveMany("/sleep", 3);
    const hello = bench.arrive("/hello");
    bench.finish(running, 1000);
    assert.equal(bench.slotOf(hello), 1);
  });

  test("a target never seen goes ahead of work known to be slow", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 1 }).startCore();
    bench.measure("/sleep", 1000);
    const running = bench.arrive("/sleep");
    const sleepers = bench.arriveMany("/sleep", 3);
    const fresh = bench.arrive("/health");
    bench.finish(running, 1000);
    assert.equal(bench.slotOf(fresh), 1);
    assert.equal(bench.slotOf(sleepers[0]!), undefined);
  });

  test("a burst never seen stops going ahead once it is seen running long: a later new target passes it", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 1 }).startCore();
    const running = bench.arrive("/sleep");
    const burst = bench.arriveMany("/sleep", 3);
    bench.advance(30); // a look sees /sleep running for 25 ms and more
    assert.equal(bench.policy.target(0, "/sleep").speed, "slow");
    const fresh = bench.arrive("/health");
    bench.finish(running, 30);
    assert.equal(bench.slotOf(fresh), 1, "the new target goes first");
    assert.ok(burst.every((t) => t.state === "queued"));
  });

  test("the quick worker starts above the max when quick work waits behind slow work, and takes only work that goes ahead", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 1 }).startCore();
    bench.measure("/hello", 1);
    bench.measure("/sleep", 1000);
    bench.arrive("/sleep");
    const sleeper = bench.arrive("/sleep");
    const hello = bench.arrive("/hello");
    bench.advance(30);
    assert.deepEqual(bench.resizes, [{ kind: "quick", from: 1, to: 2, slot: 2, waiting: 2 }]);
    assert.deepEqual(bench.started.at(-1), [2, "quick"]);
    bench.policy.workerReady(2, bench.at);
    assert.equal(bench.slotOf(hello), 2);
    bench.finish(hello, 1);
    assert.equal(bench.slotOf(sleeper), undefined, "the quick worker never takes slow work");
  });

  test("no quick worker for tasks that run briefly, measured or not yet: only work that has run 25 ms holds a worker for long", () => {
    const bench = new PolicyBench({ coreSize: 2, maxSize: 2 }).startCore();
    bench.look = computingLook;
    for (let round = 0; round < 50; round++) {
      const tasks = bench.arriveMany("/burn-some", 8);
      bench.advance(1);
      for (const task of tasks) if (task.state === "held") bench.finish(task, 0.3);
      bench.advance(4);
      for (const task of tasks) if (task.state === "held") bench.finish(task, 0.3);
    }
    assert.deepEqual(bench.resizes, []);
  });

  test("no quick worker for a flood of a new target: its own tasks hold the workers", () => {
    const bench = new PolicyBench({ coreSize: 2, maxSize: 8, cores: 2 }).startCore();
    bench.look = computingLook;
    bench.arriveMany("/burn", 50);
    bench.advance(200);
    assert.deepEqual(bench.resizes, []);
  });

  test("no quick worker while the pool can still grow for blocked workers", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 4 }).startCore();
    bench.measure("/hello", 1);
    bench.measure("/sleep", 1000);
    bench.arrive("/sleep");
    bench.arrive("/hello");
    bench.advance(100);
    assert.ok(bench.resizes.every((e) => e.kind === "grow"));
  });

  test("trivial tasks share an awake worker's batch, up to the batch limit; time-limited ones never do", () => {
    const bench = new PolicyBench({ coreSize: 2, maxSize: 2 }).startCore();
    bench.measure("/hello", 0.05, 20);
    const batch = bench.arriveMany("/hello", maxBatch + 1);
    const slots = batch.map((t) => bench.slotOf(t));
    assert.equal(slots.filter((s) => s === slots[0]).length, maxBatch, "one worker's batch is full before the next is woken");
    const limited = bench.task("/hello", true);
    bench.policy.arrive(limited, bench.at);
    assert.equal(limited.state, "queued", "a time-limited task waits for an idle worker");
  });
});

describe("crashes", () => {
  test("tasks a dead worker never started run again, once; the running one's target is quarantined after two crashes", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 1 }).startCore();
    bench.measure("/hello", 0.05, 20);
    const batch = bench.arriveMany("/hello", 4);
    const [killer, ...rest] = batch;
    bench.policy.exited(1, { wasReady: true, requeue: rest, crashed: killer }, bench.at);
    assert.deepEqual(bench.started.at(-1), [1, "core"], "a core worker is replaced at once");
    assert.ok(rest.every((t) => t.state === "queued" && t.retried));
    bench.policy.workerReady(1, bench.at);
    assert.ok(
      rest.every((t) => t.state === "held"),
      "the replacement takes them",
    );
    const second = bench.arrive("/crash");
    bench.policy.exited(1, { wasReady: true, requeue: [], crashed: second }, bench.at);
    bench.policy.workerReady(1, bench.at);
    const third = bench.arrive("/crash");
    bench.policy.exited(1, { wasReady: true, requeue: [], crashed: third }, bench.at);
    bench.policy.workerReady(1, bench.at);
    assert.equal(bench.arrive("/crash").refusal?.reason, "quarantined");
    assert.equal(bench.arrive("/hello").refusal, undefined, "other targets keep their worker");
  });

  test("a core replacement that cannot start is retried with backoff forever; meanwhile tasks are refused at once", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 1 }).startCore();
    const waiting = bench.arrive("/hello");
    bench.policy.exited(1, { wasReady: true, requeue: [waiting], crashed: undefined }, bench.at);
    for (let attempt = 1; attempt <= 4; attempt++) {
      bench.policy.exited(1, { wasReady: false, requeue: [], crashed: undefined }, bench.at);
      assert.deepEqual(bench.restartsFailed.at(-1), [1, attempt, backoffMs(attempt)]);
      assert.equal(bench.arrive("/hello").refusal?.reason, "unavailable");
      const starts = bench.started.length;
      bench.advance(backoffMs(attempt) - 1);
      assert.equal(bench.started.length, starts);
      bench.advance(1);
      assert.equal(bench.started.length, starts + 1, `try ${attempt + 1} after ${backoffMs(attempt)} ms`);
    }
    assert.equal(bench.shed[0]?.[0], waiting, "what waited was refused when no worker could run it");
    bench.policy.workerReady(1, bench.at);
    assert.equal(bench.arrive("/hello").refusal, undefined);
    assert.equal(bench.policy.available, true);
  });

  test("a worker stopped for its task's time limit is replaced when it exits", () => {
    const bench = new PolicyBench({ coreSize: 1, maxSize: 1 }).startCore();
    const stuck = bench.arrive("/stuck", true);
    assert.deepEqual(bench.policy.stopping(1), [stuck]);
    const next = bench.arrive("/hello");
    assert.equal(next.state, "queued", "a stopping worker takes nothing");
    bench.policy.exited(1, { wasReady: true, requeue: [], crashed: undefined }, bench.at);
    bench.policy.workerReady(1, bench.at);
    assert.equal(bench.slotOf(next), 1);
  });
});
