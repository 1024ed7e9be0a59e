// The tasks waiting for a worker, one FIFO per target. The next task is the oldest of those
// whose target goes ahead (quick, trivial, or never seen), else the oldest of all: a hello or a
// health check arriving behind forty sleepers takes the next free worker, and delays them by next
// to nothing. Because speeds are read when a task is picked, not when it was queued, a burst of a
// target never seen before stops going ahead as soon as it is seen to be slow.
// The queue also keeps what shedding by time needs: the estimated work waiting, and since when
// the queue has not been empty.

import { goesAhead, type Target } from "./speed.js";
import type { Instant } from "./time.js";

/** What the queue needs of a task. `id`s grow with arrival, so the smallest is the oldest. */
export interface QueuedTask {
  readonly id: number;
  readonly target: Target;
  state: "queued" | "held" | "settled";
  enqueuedAt: Instant;
  estimateMs: number;
}

export class TaskQueue<T extends QueuedTask> {
  /** Targets with tasks in their FIFO (some may only hold tasks that left early, skipped when reached). */
  private readonly targets = new Set<Target>();
  /** Tasks still waiting. */
  waiting = 0;
  /** The waiting tasks' estimated run times, summed, ms. */
  workMs = 0;
  /** When the queue last went from empty to not empty. */
  nonEmptySince = 0 as Instant;

  push(task: T): void {
    if (this.waiting === 0) this.nonEmptySince = task.enqueuedAt;
    task.target.waiting.push(task);
    this.targets.add(task.target);
    this.waiting++;
    this.workMs += task.estimateMs;
  }

  /** Puts tasks back (their worker died before starting them); their ids keep them first in line. */
  pushBack(tasks: readonly T[]): void {
    for (const task of [...tasks].sort((a, b) => b.id - a.id)) {
      const target = task.target;
      if (this.waiting === 0) this.nonEmptySince = task.enqueuedAt;
      this.skipLeft(target);
      target.waiting.splice(target.waitingHead, 0, task);
      this.targets.add(target);
      this.waiting++;
      this.workMs += task.estimateMs;
    }
  }

  /**
   * The next task to run, without taking it: the oldest whose target goes ahead, else (unless
   * `aheadOnly`) the oldest of all.
   */
  next(aheadOnly = false): T | undefined {
    let oldest: T | undefined;
    let oldestAhead: T | undefined;
    for (const target of this.targets) {
      const head = this.skipLeft(target) as T | undefined;
      if (head === undefined) continue;
      if (oldest === undefined || head.id < oldest.id) oldest = head;
      if ((oldestAhead === undefined || head.id < oldestAhead.id) && goesAhead(target.speed)) oldestAhead = head;
    }
    return oldestAhead ?? (aheadOnly ? undefined : oldest);
  }

  /** Whether a task that goes ahead waits whose target passes `test`. */
  aheadWaiting(test: (target: Target) => boolean): boolean {
    for (const target of this.targets) {
      if (goesAhead(target.speed) && test(target) && this.skipLeft(target) !== undefined) return true;
    }
    return false;
  }

  /** Takes the task `next()` returned. */
  take(task: T): void {
    const target = task.target;
    target.waiting[target.waitingHead++] = undefined as unknown as QueuedTask;
    this.compact(target);
    this.left(task);
  }

  /** A waiting task left the queue (taken, timed out, cancelled); its place is skipped later. */
  left(task: T): void {
    this.waiting--;
    // Exactly zero when empty, so rounding never builds up.
    this.workMs = this.waiting === 0 ? 0 : this.workMs - task.estimateMs;
  }

  /** Empties the queue; returns the tasks that were waiting, oldest first. */
  drain(): T[] {
    const tasks: T[] = [];
    for (const target of this.targets) {
      for (let i = target.waitingHead; i < target.waiting.length; i++) {
        const task = target.waiting[i]!;
        if (task.state === "queued") tasks.push(task as T);
      }
      target.waiting.length = 0;
      target.waitingHead = 0;
    }
    this.targets.clear();
    this.waiting = 0;
    this.workMs = 0;
    return tasks.sort((a, b) => a.id - b.id);
  }

  /** The target's first task still waiting; drops the ones that left early, and the target once empty. */
  private skipLeft(target: Target): QueuedTask | undefined {
    while (target.waitingHead < target.waiting.length) {
      const task = target.waiting[target.waitingHead]!;
      if (task.state === "queued") return task;
      target.waiting[target.waitingHead++] = undefined as unknown as QueuedTask;
    }
    this.compact(target);
    return undefined;
  }

  /** An array read from a moving head (shift() is O(n) on long queues), trimmed now and then. */
  private compact(target: Target): void {
    if (target.waitingHead === target.waiting.length) {
      target.waiting.length = 0;
      target.waitingHead = 0;
      this.targets.delete(target);
    } else if (target.waitingHead > 1024 && target.waitingHead * 2 > target.waiting.length) {
      target.waiting.splice(0, target.waitingHead);
      target.waitingHead = 0;
    }
  }
}
