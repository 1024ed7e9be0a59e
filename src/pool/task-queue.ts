// The pool's queue of tasks waiting for a worker: two FIFOs, one for tasks of targets measured
// to be quick (about a millisecond) and one for the rest. A quick task goes first: a hello that
// arrives behind forty sleepers takes the next free worker instead of waiting for all forty,
// and delays them by next to nothing. The queue also keeps what shedding by time needs: the
// estimated work waiting and since when the queue has not been empty.
import type { PendingTask } from "./worker-state.js";

/** An array read from a moving head (shift() is O(n) on long queues); tasks that left early are skipped when reached. */
class Fifo {
  private items: (PendingTask | undefined)[] = [];
  private head = 0;

  push(task: PendingTask): void {
    this.items.push(task);
  }

  pushFront(tasks: PendingTask[]): void {
    this.items.splice(this.head, 0, ...tasks);
  }

  /** The first task still waiting, without taking it. */
  peek(): PendingTask | undefined {
    while (this.head < this.items.length) {
      const task = this.items[this.head]!;
      if (task.state === "queued") return task;
      this.items[this.head++] = undefined;
    }
    this.compact();
    return undefined;
  }

  take(): PendingTask {
    const task = this.items[this.head]!;
    this.items[this.head++] = undefined;
    this.compact();
    return task;
  }

  /** Empties it, handing each task still waiting to `each`. */
  drain(each: (task: PendingTask) => void): void {
    const { items, head } = this;
    this.items = [];
    this.head = 0;
    for (let i = head; i < items.length; i++) {
      const task = items[i]!;
      if (task.state === "queued") each(task);
    }
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

export class TaskQueue {
  private readonly quick = new Fifo();
  private readonly rest = new Fifo();
  /** Which FIFO `peek()` last answered from, for `take()`. */
  private peeked: Fifo = this.rest;
  /** Tasks still waiting (the ones that left early are in the FIFOs until skipped, but not here). */
  waiting = 0;
  /** The waiting tasks' estimated run times, summed, ms. */
  workMs = 0;
  /** When the queue last went from empty to not empty (the pool's epoch-ms clock). */
  nonEmptySince = 0;

  push(task: PendingTask): void {
    if (this.waiting === 0) this.nonEmptySince = task.enqueuedAt;
    (task.quick ? this.quick : this.rest).push(task);
    this.waiting++;
    this.workMs += task.estimateMs;
  }

  /** Puts tasks back at the front, in their order (their worker died before starting them). */
  pushFront(tasks: PendingTask[]): void {
    if (tasks.length === 0) return;
    if (this.waiting === 0) this.nonEmptySince = tasks[0]!.enqueuedAt;
    this.quick.pushFront(tasks.filter((t) => t.quick));
    this.rest.pushFront(tasks.filter((t) => !t.quick));
    this.waiting += tasks.length;
    for (const task of tasks) this.workMs += task.estimateMs;
  }

  /** The next task to run, without taking it: the oldest quick one, else the oldest other. */
  peek(): PendingTask | undefined {
    const quick = this.quick.peek();
    if (quick) {
      this.peeked = this.quick;
      return quick;
    }
    this.peeked = this.rest;
    return this.rest.peek();
  }

  /** Whether a quick task waits. */
  get quickWaiting(): boolean {
    return this.quick.peek() !== undefined;
  }

  /** Takes the task `peek()` returned. */
  take(): PendingTask {
    const task = this.peeked.take();
    this.left(task);
    return task;
  }

  /** A waiting task left the queue early (timed out, cancelled); its place is skipped later. */
  left(task: PendingTask): void {
    this.waiting--;
    // Exactly zero when empty, so rounding never builds up.
    this.workMs = this.waiting === 0 ? 0 : this.workMs - task.estimateMs;
  }

  /** Empties the queue, handing each waiting task to `each`. */
  drain(each: (task: PendingTask) => void): void {
    this.waiting = 0;
    this.workMs = 0;
    this.quick.drain(each);
    this.rest.drain(each);
  }
}
