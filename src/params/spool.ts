// One file of a multipart body on its way in, Starlette's SpooledTemporaryFile done as a stream:
// its chunks are kept in memory up to a threshold, then everything goes to a temporary file and
// each further chunk is written before the next is read, so a slow disk slows the client down
// (backpressure) instead of filling memory.
import { rm, open, type FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import { nextUploadPath } from "./temp-dir.js";
import { UploadFile } from "./upload-file.js";

export class Spool {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private handle: FileHandle | undefined;
  private path: string | undefined;
  /** The write in flight (one at a time: the stream is paused meanwhile). */
  private writing: Promise<void> = Promise.resolve();
  private discarded = false;
  /** Settles with the upload once the part has ended and its bytes are stored. */
  readonly done: Promise<UploadFile>;

  constructor(
    private readonly stream: Readable,
    private readonly threshold: number,
    readonly name: string,
    readonly type: string,
  ) {
    this.done = new Promise<UploadFile>((resolve, reject) => {
      stream.on("data", (chunk: Buffer) => this.take(chunk, reject));
      stream.once("end", () => this.writing.then(() => this.finish()).then(resolve, reject));
      stream.once("error", reject);
    });
    // The caller reads `done` only once the whole body is parsed; a failure before then is
    // reported through its own path (discard), not as an unhandled rejection.
    this.done.catch(() => {});
  }

  /** Bytes received so far. */
  get received(): number {
    return this.size;
  }

  private take(chunk: Buffer, fail: (error: unknown) => void): void {
    if (this.discarded) return;
    this.size += chunk.length;
    if (this.path === undefined && this.size <= this.threshold) {
      this.chunks.push(chunk);
      return;
    }
    this.stream.pause();
    this.writing = this.writing.then(() => this.write(chunk));
    this.writing.then(
      () => {
        if (!this.discarded) this.stream.resume();
      },
      (error) => fail(error),
    );
  }

  private async write(chunk: Buffer): Promise<void> {
    if (this.discarded) return;
    if (this.handle === undefined) {
      this.path = nextUploadPath();
      // wx: a file of our own making, never one that happens to be there; 0600: ours alone to read.
      this.handle = await open(this.path, "wx", 0o600);
      const held = this.chunks;
      this.chunks = [];
      await this.handle.writev([...held, chunk]);
      return;
    }
    await this.handle.write(chunk);
  }

  private async finish(): Promise<UploadFile> {
    if (this.discarded) throw new Error("the upload was discarded");
    if (this.handle === undefined) {
      // A copy of its own: the chunks are slices of the socket's buffers, which must not be kept alive.
      const bytes = new Uint8Array(this.size);
      let at = 0;
      for (const chunk of this.chunks) {
        bytes.set(chunk, at);
        at += chunk.length;
      }
      this.chunks = [];
      return UploadFile.fromMemory(bytes, this.name, this.type);
    }
    await this.handle.close();
    this.handle = undefined;
    return UploadFile.fromDisk(this.path!, this.name, this.type);
  }

  /** Stops taking bytes and removes what was written; resolves once the file is gone. */
  async discard(): Promise<void> {
    this.discarded = true;
    this.chunks = [];
    this.stream.resume();
    await this.writing.catch(() => {});
    await this.handle?.close().catch(() => {});
    this.handle = undefined;
    await this.remove();
  }

  /** Removes the temporary file, if there is one (a handler may have moved it away: that is fine). */
  async remove(): Promise<void> {
    if (this.path !== undefined) await rm(this.path, { force: true }).catch(() => {});
  }
}
