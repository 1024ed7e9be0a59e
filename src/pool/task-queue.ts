// The pool's FIFO of tasks waiting for a worker. An array read from a moving head (shift() is
// O(n) on long queues); tasks that left early (timed out, cancelled) are skipped when reached.
// It also keeps what shedding by time needs: the estimated work waiting and since when the
// queue has not been empty.
import type { PendingTask } from "./worker-state.js";

export class TaskQueue {
  private items: (PendingTask | undefined)[] = [];
  private head = 0;
  /** Tasks still waiting (the ones that left early are in `items` until skipped, but not here). */
  waiting = 0;
  /** The waiting tasks' estimated run times, summed, ms. */
  workMs = 0;
  /** When the queue last went from empty to not empty (the pool's epoch-ms clock). */
  nonEmptySince = 0;

  push(task: PendingTask): void {
    if (this.waiting === 0) this.nonEmptySince = task.enqueuedAt;
    this.items.push(task);
    this.waiting++;
    this.workMs += task.estimateMs;
  }

  /** Puts tasks back at the front, in their order (their worker died before starting them). */
  pushFront(tasks: PendingTask[]): void {
    if (tasks.length === 0) return;
    if (this.waiting === 0) this.nonEmptySince = tasks[0]!.enqueuedAt;
    this.items.splice(this.head, 0, ...tasks);
    this.waiting += tasks.length;
    for (const task of tasks) this.workMs += task.estimateMs;
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

  /** Takes the task `peek()` returned. */
  take(): PendingTask {
    const task = this.items[this.head]!;
    this.items[this.head++] = undefined;
    this.left(task);
    this.compact();
    return task;
  }

  /** A waiting task left the queue early (timed out, cancelled); its slot is skipped later. */
  left(task: PendingTask): void {
    this.waiting--;
    // Exactly zero when empty, so rounding never builds up.
    this.workMs = this.waiting === 0 ? 0 : this.workMs - task.estimateMs;
  }

  /** Empties the queue, handing each waiting task to `each`. */
  drain(each: (task: PendingTask) => void): void {
    const items = this.items;
    const head = this.head;
    this.items = [];
    this.head = 0;
    this.waiting = 0;
    this.workMs = 0;
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
