// A file that came in a `multipart/form-data` body: a web `File` (so `z.file()` validates it, and
// `fetch`, `Response` and `FormData` take it as it is) that also knows where its bytes are on disk.
import { copyFileSync, openAsBlob, readFileSync, writeFileSync } from "node:fs";
import { copyFile, writeFile } from "node:fs/promises";
import { inspect } from "node:util";
import { noteBufferBytes } from "./buffer-garbage.js";

/** An upload as plain data, the way it crosses to a worker: the path of a spooled file, the bytes of a small one. */
export interface UploadDescriptor {
  "~upload": 1;
  name: string;
  type: string;
  size: number;
  lastModified: number;
  path?: string;
  bytes?: Uint8Array;
}

/**
 * One uploaded file, on either lane. Its bytes are in memory (a small file) or in a temporary
 * file (`path`), removed once the request has its answer.
 *
 *     app.post("/upload", { body: z.object({ file: z.file() }) }, async (req) => {
 *       const { name, type, size } = req.body.file;       // what the client sent
 *       const bytes = await req.body.file.bytes();         // or .stream(), .text(), .path
 *     });
 */
export class UploadFile extends File {
  /** The temporary file holding the bytes, or undefined while they are held in memory. Removed after the answer. */
  readonly path: string | undefined;
  readonly #memory: Uint8Array | undefined;

  /** Made by Loopwise; `fromMemory` and `fromDisk` are the two ways. */
  private constructor(part: Blob | Uint8Array, name: string, type: string, lastModified: number, path: string | undefined) {
    super([part], name, { type, lastModified });
    this.path = path;
    this.#memory = part instanceof Uint8Array ? part : undefined;
  }

  static fromMemory(bytes: Uint8Array, name: string, type: string, lastModified = Date.now()): UploadFile {
    return new UploadFile(bytes, name, type, lastModified, undefined);
  }

  /** A file on disk, read only when asked (the Blob is backed by the file, not a copy of it). */
  static async fromDisk(path: string, name: string, type: string, lastModified = Date.now()): Promise<UploadFile> {
    return new UploadFile(await openAsBlob(path), name, type, lastModified, path);
  }

  /** The bytes, read at once: for a plain (worker-lane) handler, where blocking is fine. */
  bytesSync(): Uint8Array {
    return this.#memory ? new Uint8Array(this.#memory) : new Uint8Array(readFileSync(this.path!));
  }

  /** Writes the file to `destination`, replacing what is there (from disk: a kernel copy, no bytes through JavaScript). */
  async save(destination: string): Promise<void> {
    if (this.#memory) await writeFile(destination, this.#memory);
    else await copyFile(this.path!, destination);
  }

  /** `save`, blocking: for a plain (worker-lane) handler. */
  saveSync(destination: string): void {
    if (this.#memory) writeFileSync(destination, this.#memory);
    else copyFileSync(this.path!, destination);
  }

  /** The bytes as a web stream, read from disk as they are asked for when the file is spooled. */
  override stream(): ReadableStream<Uint8Array> {
    const stream = super.stream() as ReadableStream<Uint8Array>;
    if (this.path === undefined) return stream;
    // Each chunk read back is a new buffer: counted like the upload's own, so they do not pile up.
    return stream.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          noteBufferBytes(chunk.length);
          controller.enqueue(chunk);
        },
      }),
    );
  }

  /** How it crosses to a worker: a path or a few bytes, never a copy of a large file. */
  toDescriptor(): UploadDescriptor {
    const { name, type, size, lastModified, path } = this;
    return path ? { "~upload": 1, name, type, size, lastModified, path } : { "~upload": 1, name, type, size, lastModified, bytes: this.#memory! };
  }

  static fromDescriptor(d: UploadDescriptor): UploadFile | Promise<UploadFile> {
    return d.path ? UploadFile.fromDisk(d.path, d.name, d.type, d.lastModified) : UploadFile.fromMemory(d.bytes!, d.name, d.type, d.lastModified);
  }

  [inspect.custom](): string {
    const where = this.path ? `path: ${JSON.stringify(this.path)}` : "in memory";
    return `UploadFile { name: ${JSON.stringify(this.name)}, type: ${JSON.stringify(this.type)}, size: ${this.size}, ${where} }`;
  }
}

export function isUploadDescriptor(value: unknown): value is UploadDescriptor {
  return typeof value === "object" && value !== null && (value as UploadDescriptor)["~upload"] === 1;
}

const withUploads = new WeakSet<object>();

/** Remembers that a request holds uploads (called by the form reader; most requests never are), so it crosses with descriptors. */
export function noteUploads(req: object): void {
  withUploads.add(req);
}

export function hasUploads(req: object): boolean {
  return withUploads.has(req);
}
