// Where spooled uploads live: one private directory per process under the OS's temporary
// directory (TMPDIR), made on the first upload that needs it. Every file in it is removed after
// its request's answer; the directory itself goes when the process exits, so a request that never
// finished (a hung handler, a grace period that ran out) leaves nothing behind either.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let dir: string | undefined;
let counter = 0;

/** The directory spooled uploads go to (made, mode 0700, on first use). */
export function uploadDir(): string {
  if (dir === undefined) {
    // Synchronous, once per process: a few microseconds, and no two uploads can race to make it.
    dir = mkdtempSync(join(tmpdir(), `loopwise-uploads-${process.pid}-`));
    const made = dir;
    process.once("exit", () => rmSync(made, { recursive: true, force: true }));
  }
  return dir;
}

/**
 * A fresh path in the upload directory. The name is ours alone (a counter): nothing the client
 * sends, such as a filename with `../` in it, ever reaches the file system.
 */
export function nextUploadPath(): string {
  return join(uploadDir(), `upload-${++counter}`);
}
