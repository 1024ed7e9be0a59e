// How the main thread's dependency overrides reach the workers, which imported the app on their
// own. A test may change them while the pool runs, so startup data alone would not do: the main
// thread writes the current set into shared memory, and a worker compares one integer before each
// task and reads the set again only when it changed.
//
//   Int32 [0]  sequence: odd while the main thread writes, bumped twice per write
//   Int32 [1]  length of the serialized set
//   bytes 8..  the set, in the structured clone format (v8.serialize)
import { deserialize, serialize } from "node:v8";

/** The overrides a worker must apply, as plain data: what replaces what, and which modules to import first. */
export interface OverrideSpec {
  /** Each replaced dependency by its key, and its replacement: another dependency's key, or a fixed value. */
  entries: { target: string; replacement: { key: string } | { value: unknown } }[];
  /** Modules that define replacements (or their own dependencies) the app module does not import. */
  modules: string[];
}

/** The name the buffer is handed to the workers under (see pool/identity.ts: inheritedBuffer). */
export const overridesBufferKey = "loopwise:dependency-overrides";

const header = 8;

// Growable SharedArrayBuffers are ES2024 (Node 20 has them); the project's TypeScript lib is older.
type GrowableConstructor = new (length: number, options: { maxByteLength: number }) => SharedArrayBuffer;
type Growable = SharedArrayBuffer & { grow(length: number): void };
const maxBytes = 16 * 1024 * 1024;

export class OverrideChannel {
  readonly buffer: SharedArrayBuffer;
  private readonly words: Int32Array;
  private seen = 0;

  /** A new channel (main thread), or the main thread's, adopted (worker). */
  constructor(buffer?: SharedArrayBuffer) {
    // Growable: a fixed value can be large, and the address space is only reserved, not used.
    this.buffer = buffer ?? new (SharedArrayBuffer as GrowableConstructor)(header, { maxByteLength: maxBytes });
    this.words = new Int32Array(this.buffer, 0, 2);
  }

  /** Main thread: makes `spec` the current set. Throws if a value cannot be copied, or is too large. */
  publish(spec: OverrideSpec): void {
    const bytes = serialize(spec);
    if (header + bytes.length > maxBytes) {
      throw new RangeError(`the dependency overrides take ${bytes.length} bytes serialized, more than the ${maxBytes} bytes they may use`);
    }
    if (this.buffer.byteLength < header + bytes.length) (this.buffer as Growable).grow(header + bytes.length);
    Atomics.add(this.words, 0, 1);
    new Uint8Array(this.buffer, header, bytes.length).set(bytes);
    Atomics.store(this.words, 1, bytes.length);
    Atomics.add(this.words, 0, 1);
  }

  /** Worker: whether the main thread published a set this worker has not taken yet (one atomic read). */
  get changed(): boolean {
    return Atomics.load(this.words, 0) !== this.seen;
  }

  /** Worker: the set just taken could not be applied; it is taken again before the next task. */
  forget(): void {
    this.seen = -1;
  }

  /** Worker: the set published last, or undefined if none was ever published. */
  take(): OverrideSpec | undefined {
    for (;;) {
      const before = Atomics.load(this.words, 0);
      if (before % 2 === 1) {
        // The main thread is writing (a few microseconds): wait for it.
        Atomics.wait(this.words, 0, before, 1);
        continue;
      }
      if (before === 0) return undefined;
      const length = Atomics.load(this.words, 1);
      const copy = new Uint8Array(length);
      copy.set(new Uint8Array(this.buffer, header, length));
      if (Atomics.load(this.words, 0) !== before) continue;
      this.seen = before;
      return deserialize(copy) as OverrideSpec;
    }
  }
}
