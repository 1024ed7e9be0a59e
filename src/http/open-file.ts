// A file opened for sending: a regular file's descriptor and its stat, and a body that reads a
// range of it with backpressure and closes the descriptor however it ends.
import { close, constants, fstat, open, read, type Stats } from "node:fs";

/** Where a streamed body whose length is known before it is sent keeps that length (the server sends it as Content-Length). */
export const bodyLength = Symbol.for("loopwise.body-length");

/** The length of a body that knows it before it is read (an opened file's), else undefined. */
export function knownLength(body: unknown): number | undefined {
  const length = typeof body === "object" && body !== null ? (body as { [bodyLength]?: unknown })[bodyLength] : undefined;
  return typeof length === "number" ? length : undefined;
}

/** The path is not a regular file (a directory, a device, a FIFO): nothing to send. */
export class NotAFileError extends Error {
  override readonly name = "NotAFileError";
  readonly code = "ENOTFILE";
}

/**
 * An open file's descriptor, read and closed through Node's callback API: per request it costs
 * less than `fs/promises`' FileHandle, which a small static file notices.
 */
export class FileDescriptor {
  private closed = false;

  constructor(readonly fd: number) {
    unclosed.register(this, fd, this);
  }

  read(length: number, position: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      read(this.fd, Buffer.allocUnsafe(length), 0, length, position, (error, bytesRead, buffer) => {
        if (error) reject(error);
        else resolve(bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
      });
    });
  }

  /** Closes it once; a read still in flight has its answer first (libuv runs them in order per request). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    unclosed.unregister(this);
    close(this.fd, () => {});
  }
}

/**
 * The safety net under every path that should close a file and might not (a middleware that
 * drops a file body it did not read): a descriptor collected while open is closed then.
 */
const unclosed = new FinalizationRegistry<number>((fd) => close(fd, () => {}));

export interface OpenedFile {
  handle: FileDescriptor;
  stats: Stats;
}

/**
 * Opens a regular file for reading. The stat is of the open descriptor, so the size and dates
 * sent describe the bytes read even if the path is replaced meanwhile.
 */
export async function openRegularFile(path: string): Promise<OpenedFile> {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, holding one of
  // libuv's few file-system threads. It changes nothing for regular files.
  const fd = await new Promise<number>((resolve, reject) =>
    open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0), (error, fd) => (error ? reject(error) : resolve(fd))),
  );
  const handle = new FileDescriptor(fd);
  try {
    const stats = await new Promise<Stats>((resolve, reject) => fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats))));
    if (!stats.isFile()) throw new NotAFileError(`${path} is not a regular file`);
    return { handle, stats };
  } catch (error) {
    handle.close();
    throw error;
  }
}

/** Bytes read at a time: with the one read ahead, what one download holds in memory besides the socket's buffer. */
const chunkSize = 64 * 1024;

/**
 * `length` bytes of an open file from `start`, read one chunk at a time as the socket takes
 * them, the next read started while the last chunk is written (so the disk and the socket work
 * at once). The descriptor is closed at the end, on an error, or when the reader stops early
 * (`return()`, even before the first read). A file that turns out shorter than its size when
 * opened (truncated while sent) is an error: the connection must drop, not end short of its
 * Content-Length.
 */
export class FileRange implements AsyncIterable<Uint8Array> {
  readonly [bodyLength]: number;
  private used = false;

  constructor(
    private readonly handle: FileDescriptor,
    private readonly start: number,
    readonly length: number,
    private readonly path: string,
    /** Called once the descriptor is closed, however the body ended. */
    private readonly onClose: () => void = () => {},
  ) {
    this[bodyLength] = length;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.used) throw new Error("a file body is read once");
    this.used = true;
    const { handle, start, length, path, onClose } = this;
    const end = start + length;
    let position = start;
    let ahead: Promise<Buffer> | undefined;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      handle.close();
      onClose();
    };
    const readNext = () => {
      const at = position;
      const size = Math.min(chunkSize, end - at);
      position += size;
      const read = handle.read(size, at).then((buffer) => {
        // A regular file reads short only at its end: it is shorter now than when it was opened.
        if (buffer.length < size) throw new Error(`${path} became shorter while it was sent: ${at + buffer.length - start} of ${length} bytes`);
        return buffer;
      });
      // Whoever asks for it sees a failure; one never asked for (the reader left) is not unhandled.
      read.catch(() => {});
      return read;
    };
    const done = { done: true, value: undefined } as const;
    return {
      next: async () => {
        if (closed) return done;
        if (position === end && ahead === undefined) {
          close();
          return done;
        }
        let chunk: Buffer;
        try {
          chunk = await (ahead ?? readNext());
        } catch (error) {
          close();
          throw error;
        }
        ahead = position < end ? readNext() : undefined;
        return { done: false, value: chunk };
      },
      return: async () => {
        close();
        return done;
      },
    };
  }
}
