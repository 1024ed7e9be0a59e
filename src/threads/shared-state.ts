// Memory shared by the main thread and every worker. Each thread imports the app module, so each
// runs `new SharedCounter()` itself; the main thread allocates the memory and hands it to the
// workers at start, and a worker's shared object adopts the buffer registered under the same key.
import { ModuleRegistry } from "../pool/module-registry.js";
import { inheritedBuffer, workerSlot } from "../pool/identity.js";

const registry = new ModuleRegistry<SharedArrayBuffer>("shared");

/** The buffers to hand to a new worker, by key. */
export function sharedBuffers(): Record<string, SharedArrayBuffer> {
  return Object.fromEntries(registry.keys().map((key) => [key, registry.get(key)!]));
}

export function sharedStateSignature(): string[] {
  return registry.signature((buffer) => String(buffer.byteLength));
}

function register(byteLength: number): SharedArrayBuffer {
  return registry.add((key) => {
    if (workerSlot() === undefined) return new SharedArrayBuffer(byteLength);
    const found = inheritedBuffer(key);
    if (!found || found.byteLength !== byteLength) {
      throw new Error(
        `shared memory ${key} has no match from the main thread: create shared state at the top level ` +
          "of the app module, the same way on every import, before the server starts",
      );
    }
    return found;
  }).value;
}

/**
 * A fixed number of 64-bit integer cells shared by every lane, each read and changed atomically.
 * Create it at the top level of the app module, before the server starts.
 *
 *     export const votes = new SharedTable(3);
 *     app.post("/vote/:option", () => ({ total: votes.add(Number(req.params.option), 1) }));
 */
export class SharedTable {
  private readonly cells: BigInt64Array;

  constructor(readonly length: number) {
    if (!Number.isInteger(length) || length < 1) throw new RangeError(`SharedTable length must be a positive integer, got ${length}`);
    this.cells = new BigInt64Array(register(length * 8));
  }

  get(index: number): number {
    return Number(Atomics.load(this.cells, this.check(index)));
  }

  set(index: number, value: number): void {
    Atomics.store(this.cells, this.check(index), BigInt(value));
  }

  /** Adds `delta` and returns the new value. */
  add(index: number, delta = 1): number {
    const i = this.check(index);
    return Number(Atomics.add(this.cells, i, BigInt(delta)) + BigInt(delta));
  }

  /** Sets the cell to `value` only if it holds `expected`; returns whether it did. */
  compareAndSet(index: number, expected: number, value: number): boolean {
    const i = this.check(index);
    return Atomics.compareExchange(this.cells, i, BigInt(expected), BigInt(value)) === BigInt(expected);
  }

  private check(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`index ${index} is outside this SharedTable of ${this.length} cells`);
    }
    return index;
  }
}

/**
 * One shared integer, atomically updated from any lane: the answer to "does a plain handler
 * that bumps a global race?" (module globals are per worker; this is shared by all).
 *
 *     export const hits = new SharedCounter();
 *     app.get("/hit", () => ({ hits: hits.increment() }));
 */
export class SharedCounter {
  private readonly table = new SharedTable(1);

  get value(): number {
    return this.table.get(0);
  }

  /** Adds `delta` (default 1) and returns the new value. */
  increment(delta = 1): number {
    return this.table.add(0, delta);
  }

  reset(value = 0): void {
    this.table.set(0, value);
  }
}
