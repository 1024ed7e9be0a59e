// Reading a `multipart/form-data` body as it streams in, with @fastify/busboy: text fields into
// memory (bounded), files through a Spool (memory, then a temporary file). Nothing holds the whole
// body. Any limit passed is a 413 that names it; a body busboy cannot parse is a 400. Whatever
// happens — a refusal, a malformed body, a client that leaves halfway — the files written so far
// are removed before the answer, and on success the caller removes them after it.
import { drainThen } from "./drain.js";
import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import type { Readable } from "node:stream";
import type { BusboyConfig, BusboyHeaders, BusboyInstance } from "@fastify/busboy";
import { HttpError } from "../http/http-error.js";
import type { HttpRequest } from "../http/request.js";
import { noteBufferBytes } from "./buffer-garbage.js";
import { continueNow } from "./expect-continue.js";
import { markFormBody } from "./form-body.js";
import { largestForm, partHeaderLimit, type ResolvedFormLimits } from "./form-limits.js";
import { Spool } from "./spool.js";
import { noteUploads, type UploadFile } from "./upload-file.js";

type Busboy = (config: BusboyConfig) => BusboyInstance;
let loadedBusboy: Busboy | undefined;

/** The form parser, loaded with the first form: a pool worker, which never parses one, does not pay its 6–9 ms. */
function busboy(config: BusboyConfig): BusboyInstance {
  loadedBusboy ??= createRequire(import.meta.url)("@fastify/busboy") as Busboy;
  return loadedBusboy(config);
}

/** Whether the request says its body is a multipart form. */
export function isMultipart(headers: IncomingMessage["headers"]): boolean {
  const type = headers["content-type"];
  return type !== undefined && /^\s*multipart\/form-data\s*(;|$)/i.test(type);
}

/** Removes the request's temporary files; call it once the request has its answer. */
export type ReleaseUploads = () => void;

/**
 * Reads the form into `data.body` (fields by name, a repeated name an array; files as
 * UploadFile) and resolves with what removes its temporary files. Rejects with an HttpError (the body's fault) or an UploadStorageError (the server's: a full disk).
 */
export function readMultipart(
  req: IncomingMessage,
  data: HttpRequest,
  accepts: string[] | undefined,
  limits: ResolvedFormLimits,
): Promise<ReleaseUploads> {
  if (accepts && !accepts.includes("multipart/form-data")) {
    return Promise.reject(new HttpError(415, `Unsupported Media Type: this route takes ${accepts.join(" or ")}, got multipart/form-data`));
  }
  const most = largestForm(limits);
  if (Number(req.headers["content-length"]) > most) {
    return Promise.reject(refused(`Request body is larger than this route's form can be (${most} bytes)`));
  }
  continueNow(req);
  return new FormReader(req, limits, most).read().then((form) => {
    data.body = form.fields;
    if (form.spools.length > 0) noteUploads(data);
    return () => {
      for (const spool of form.spools) void spool.remove();
    };
  });
}

type Fields = Record<string, string | UploadFile | (string | UploadFile)[]>;

interface Form {
  fields: Fields;
  spools: Spool[];
}

/** A 413 that also closes the connection: the rest of the body is not read. */
/**
 * An upload the server could not store: its disk or quota is full (507), it has no file
 * descriptor left (503, retry later), or another error of the file system (500). The client's
 * body was fine, so it is not a 400; the cause goes to the log, never to the client.
 */
export class UploadStorageError extends Error {
  override readonly name = "UploadStorageError";
  readonly status: number;
  readonly detail: string;
  readonly headers: Record<string, string> = { connection: "close" };
  constructor(cause: NodeJS.ErrnoException) {
    super(`an upload could not be stored: ${cause.message}`, { cause });
    const full = cause.code === "ENOSPC" || cause.code === "EFBIG" || cause.code === "EDQUOT";
    const noDescriptor = cause.code === "EMFILE" || cause.code === "ENFILE";
    this.status = full ? 507 : noDescriptor ? 503 : 500;
    this.detail = full
      ? "Insufficient Storage: the server has no room for this upload"
      : noDescriptor
        ? "Service unavailable: the server cannot store uploads right now; retry later"
        : "Internal Server Error";
    if (noDescriptor) this.headers["retry-after"] = "1";
  }
}

/** A spool's failure: the file system's (the server's fault), or the part's stream (the body's). */
function spoolFailure(error: Error): HttpError | UploadStorageError {
  const errno = error as NodeJS.ErrnoException;
  if (typeof errno.syscall === "string") return new UploadStorageError(errno);
  return new HttpError(400, `Malformed multipart body: ${error.message}`);
}

function refused(detail: string): HttpError {
  return new HttpError(413, detail, { connection: "close" });
}

class FormReader {
  /** Every field and file in the order the parts came; a file's value comes once it is stored. */
  private readonly entries: { name: string; value: string | UploadFile | undefined }[] = [];
  private readonly spools: Spool[] = [];
  private fieldBytes = 0;
  private received = 0;
  /** The whole body came (not `req.complete`: the TestClient's request is a plain stream). */
  private ended = false;
  private failure: HttpError | UploadStorageError | undefined;
  private settle!: { resolve: (form: Form) => void; reject: (error: HttpError | UploadStorageError) => void };
  private parser: BusboyInstance | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly limits: ResolvedFormLimits,
    private readonly most: number,
  ) {}

  read(): Promise<Form> {
    return new Promise<Form>((resolve, reject) => {
      this.settle = { resolve, reject };
      try {
        this.parser = this.makeParser();
      } catch (error) {
        this.fail(new HttpError(400, `Malformed multipart body: ${(error as Error).message}`));
        return;
      }
      this.req.on("data", this.count);
      this.req.once("end", this.end);
      this.req.once("aborted", this.gone);
      this.req.once("error", this.gone);
      this.req.once("close", this.closed);
      this.req.pipe(this.parser);
    });
  }

  private makeParser(): BusboyInstance {
    const { maxFileSize, maxFiles, maxFields, maxFieldsSize } = this.limits;
    const parser = busboy({
      headers: this.req.headers as BusboyHeaders,
      limits: {
        fileSize: maxFileSize,
        files: maxFiles,
        fields: maxFields,
        fieldSize: maxFieldsSize,
        parts: maxFiles + maxFields,
        headerSize: partHeaderLimit,
      },
      // A part is a file when it has a filename (even an empty one), as in Starlette; else a text field.
      isPartAFile: (_name: string | undefined, _type: string | undefined, filename: string | undefined) => filename !== undefined,
    });
    parser.on("field", (name: string | undefined, value: string, _nameCut: boolean, valueCut: boolean) => this.field(name, value, valueCut));
    parser.on("file", (name: string | undefined, stream: Readable, filename: string, _encoding: string, type: string) =>
      this.file(name, stream, filename, type),
    );
    parser.on("filesLimit", () => this.fail(refused(`Too many files: this route takes at most ${maxFiles}`)));
    parser.on("fieldsLimit", () => this.fail(refused(`Too many form fields: this route takes at most ${maxFields}`)));
    parser.on("partsLimit", () => this.fail(refused(`Too many parts in the form: this route takes at most ${maxFiles + maxFields}`)));
    parser.on("error", (error: Error) => this.fail(new HttpError(400, `Malformed multipart body: ${error.message}`)));
    parser.on("finish", () => void this.finish());
    return parser;
  }

  private readonly count = (chunk: Buffer) => {
    // Busboy skips what lies outside the parts (a preamble, say) without bounds: this bounds it.
    this.received += chunk.length;
    noteBufferBytes(chunk.length);
    if (this.received > this.most) this.fail(refused(`Request body is larger than this route's form can be (${this.most} bytes)`));
  };

  private readonly end = () => {
    this.ended = true;
  };

  private readonly gone = () => this.fail(new HttpError(400, "The request body ended early: the client closed the connection"));

  private readonly closed = () => {
    if (!this.ended) this.gone();
  };

  private field(name: string | undefined, value: string, cut: boolean): void {
    if (this.failure || name === undefined) return;
    this.fieldBytes += Buffer.byteLength(value);
    if (cut || this.fieldBytes > this.limits.maxFieldsSize) {
      this.fail(
        refused(`The form's text fields are larger than this route takes (${this.limits.maxFieldsSize} bytes together; "${name}" went past it)`),
      );
      return;
    }
    this.entries.push({ name, value });
  }

  private file(name: string | undefined, stream: Readable, filename: string, type: string): void {
    if (this.failure || name === undefined) {
      stream.resume();
      return;
    }
    const spool = new Spool(stream, this.limits.spoolThreshold, displayName(filename), type);
    this.spools.push(spool);
    stream.once("limit", () => this.fail(refused(`The file in field "${name}" is larger than this route takes (${this.limits.maxFileSize} bytes)`)));
    // Its place in the form is kept now, in the order the parts came; the upload fills it once stored.
    const entry: { name: string; value: UploadFile | undefined } = { name, value: undefined };
    this.entries.push(entry);
    spool.done.then(
      (upload) => {
        // An empty file input sends an empty part with no filename: no file was chosen, the field stays missing.
        if (!(filename === "" && upload.size === 0)) entry.value = upload;
      },
      (error: Error) => this.fail(spoolFailure(error)),
    );
  }

  private async finish(): Promise<void> {
    const stored = await Promise.allSettled(this.spools.map((spool) => spool.done));
    if (this.failure) return;
    const broken = stored.find((s) => s.status === "rejected");
    if (broken) return this.fail(spoolFailure(broken.reason as Error));
    this.stopListening();
    this.settle.resolve({ fields: markFormBody(fieldsOf(this.entries)), spools: this.spools });
  }

  /** Once: stops reading, removes every file written so far, then rejects. */
  private fail(error: HttpError | UploadStorageError): void {
    if (this.failure) return;
    this.failure = error;
    this.stopListening();
    if (this.parser) {
      this.req.unpipe(this.parser);
      this.parser.on("error", () => {});
      this.parser.destroy();
    }
    const discarded = Promise.all(this.spools.map((spool) => spool.discard()));
    const answer = () => void discarded.then(() => this.settle.reject(error));
    if (this.ended) {
      answer();
      return;
    }
    // The rest of the body is read and dropped before the answer, which closes the connection.
    error.headers.connection = "close";
    drainThen(this.req, answer);
  }

  private stopListening(): void {
    this.req.off("data", this.count);
    this.req.off("end", this.end);
    this.req.off("aborted", this.gone);
    this.req.off("error", this.gone);
    this.req.off("close", this.closed);
  }
}

/** The fields by name, as a query string's: a repeated name is a list. */
function fieldsOf(entries: { name: string; value: string | UploadFile | undefined }[]): Fields {
  const fields: Fields = Object.create(null);
  for (const { name, value } of entries) {
    if (value === undefined) continue;
    const existing = fields[name];
    if (existing === undefined) fields[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else fields[name] = [existing, value];
  }
  return fields;
}

/**
 * The client's file name without control characters: a NUL, a newline or an escape has no place
 * in a name, and would break a log line or make `fs` refuse the path an app builds from it.
 */
function displayName(filename: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  return filename.replace(/[\u0000-\u001f\u007f]/g, "");
}
