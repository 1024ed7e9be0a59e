// The pool's FIFO of tasks waiting for a worker. An array read from a moving head (shift() is
// O(n) on long queues); tasks that left early (timed out) are skipped when reached.
import type { PendingTask } from "./worker-state.js";

export class TaskQueue {
  private items: (PendingTask | undefined)[] = [];
  private head = 0;
  /** Tasks still waiting (the ones that left early are in `items` until skipped, but not here). */
  waiting = 0;

  push(task: PendingTask): void {
    this.items.push(task);
    this.waiting++;
  }

  /** Puts tasks back at the front, in their order (their worker died before starting them). */
  pushFront(tasks: PendingTask[]): void {
    if (tasks.length === 0) return;
    this.items.splice(this.head, 0, ...tasks);
    this.waiting += tasks.length;
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
    this.waiting--;
    this.compact();
    return task;
  }

  /** A waiting task left the queue early (timed out, refused); its slot is skipped later. */
  left(): void {
    this.waiting--;
  }

  /** Empties the queue, handing each waiting task to `each`. */
  drain(each: (task: PendingTask) => void): void {
    const items = this.items;
    const head = this.head;
    this.items = [];
    this.head = 0;
    this.waiting = 0;
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
