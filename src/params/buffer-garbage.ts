// Keeping a large upload from showing up in the process's memory. Node copies every chunk of a
// request body into a buffer of its own (64 KiB each), and V8 frees dead buffers only at its
// next young-generation collection, which a quiet server runs once about 32 MiB of them have
// piled up (twice the default semi-space). Spooling a 20 MB file to disk holds almost nothing
// alive, yet without help the process would grow by nearly 20 MB of dead buffers waiting there
// (measured: a bare node:http server that discards such a body grows 19 MB).
//
// So, while upload bytes flow (received, or read back from a spooled file), every 2 MiB: if
// buffers have piled up past 4 MiB, ask V8 for a young-generation collection. Its cost
// follows what is alive in the young generation, not the garbage: under a millisecond on a quiet
// server; a busy one collects often anyway and never gets past the bound. V8 gives no API for
// this but its `gc` function, exposed here for a moment the way Jest's leak detector does; where
// that fails, nothing is done and memory is as Node leaves it.
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const checkEvery = 2 * 1024 * 1024;
const pileBound = 4 * 1024 * 1024;

type Collect = () => void;
let collect: Collect | null | undefined;
let sinceCheck = 0;

/** Counts `bytes` of body buffers passing through; may free the dead ones (see above). */
export function noteBufferBytes(bytes: number): void {
  sinceCheck += bytes;
  if (sinceCheck < checkEvery) return;
  sinceCheck = 0;
  // External memory (buffers, mostly): half a microsecond to read, where process.memoryUsage() takes 25.
  if (getHeapStatistics().external_memory < pileBound) return;
  collect ??= youngCollector();
  collect?.();
}

function youngCollector(): Collect | null {
  const given = (globalThis as { gc?: (options?: object) => void }).gc;
  if (typeof given === "function") return () => given({ type: "minor" });
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as (options: object) => void;
    return () => gc({ type: "minor" });
  } catch {
    return null;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}
