// A file as a response body, not yet opened. It stays a path until the request it answers is
// known (prepare-file.ts decides then between 200, 206, 304, 412, 416 and 404), so it is plain
// data that crosses from a worker like any other answer and is opened on the main thread.
import { createReadStream } from "node:fs";

export const fileKind = "loopwise.file";

/** A file body as plain data: what a worker's `file()` answer is on its way to the main thread. */
export interface FileSource {
  kind: typeof fileKind;
  /** Absolute path. */
  path: string;
  /** Whether an ETag and a Last-Modified header are sent (and so conditional requests answered). */
  etag: boolean;
  lastModified: boolean;
}

/**
 * The body of a `file()` response. It is an async iterable like any streamed body, so
 * middleware sees an ordinary stream; iterated before it is sent (a middleware that reads the
 * body), it gives the whole file.
 */
export class FileBody implements AsyncIterable<Uint8Array>, FileSource {
  readonly kind = fileKind;
  /** What waits for the file to be sent (a request's uploads, which the file may be one of). Private: not copied across threads. */
  #whenDone: (() => void)[] = [];

  constructor(
    readonly path: string,
    readonly etag: boolean,
    readonly lastModified: boolean,
  ) {}

  /** Runs `fn` once the file has been sent, or has failed or been given up (at once if it has). */
  whenDone(fn: () => void): void {
    this.#whenDone.push(fn);
  }

  /** The file is sent, failed, or will not be sent: what waited for it runs, once. */
  done(): void {
    for (const fn of this.#whenDone.splice(0)) fn();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      yield* createReadStream(this.path);
    } finally {
      this.done();
    }
  }
}

export function isFileBody(body: unknown): body is FileBody {
  return body instanceof FileBody;
}
