// The Redis URL a process was started with, handed to its pool's worker threads along with the
// shared memory (the one channel the pool already gives every thread at its start), so that a
// plain handler can add a durable job without the main thread's help. No environment variable
// is set: the process's environment, and its children's, stay the user's.
import { inheritedBuffer } from "../pool/identity.js";

const urlKey = "loopwise.queue#redis-url";

/** The shared buffers to add to the pool's for a process started with `url`. */
export function redisUrlBuffers(url: string | undefined): Record<string, SharedArrayBuffer> {
  if (url === undefined) return {};
  const bytes = new TextEncoder().encode(url);
  const buffer = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  return { [urlKey]: buffer };
}

/** Inside a worker thread: the URL its process was started with, if any. */
export function inheritedRedisUrl(): string | undefined {
  const buffer = inheritedBuffer(urlKey);
  // TextDecoder refuses views of shared memory: copy first.
  return buffer === undefined ? undefined : new TextDecoder().decode(new Uint8Array(buffer).slice());
}
