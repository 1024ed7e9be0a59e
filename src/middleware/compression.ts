// Response compression: gzip or brotli, whichever the client prefers (negotiated by the
// `negotiator` package), done by Node's zlib off the event loop for whole bodies and chunk by
// chunk for streamed ones.
import { createRequire } from "node:module";
import { promisify } from "node:util";
import zlib from "node:zlib";
import type Negotiator from "negotiator";
import type { Middleware } from "../app/middleware.js";
import { isFileBody } from "../http/file-body.js";
import { knownLength } from "../http/open-file.js";
import { prepareFile } from "../http/prepare-file.js";
import { closeSource, isStreamBody, type OutgoingResponse, type StreamBody } from "../http/response.js";
import { appendVary } from "./vary.js";

export type Encoding = "br" | "gzip";

export interface CompressionOptions {
  /** Bodies smaller than this many bytes go out as they are (default 1024): compressing them saves little and costs CPU. */
  minimumSize?: number;
  /** Encodings offered, in the server's order of preference when the client likes several equally (default br, gzip). */
  encodings?: readonly Encoding[];
  /** gzip level, 1 (fast) to 9 (small); default 6. */
  gzipLevel?: number;
  /** brotli quality, 0 to 11; default 4, near gzip's speed with smaller output (11 is for files compressed once). */
  brotliQuality?: number;
}

/** Media types worth compressing; images, video, archives and fonts are compressed already. */
const compressible =
  /^(text\/(?!event-stream)|application\/(json|jsonl|javascript|xml|x-ndjson|ld\+json|graphql|wasm)|application\/[\w.+-]+\+(json|xml)|image\/svg\+xml)/i;

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

/**
 * Compresses responses for clients that accept it: `app.use(compression())`. Skips bodies
 * under `minimumSize`, types that do not compress (and `text/event-stream`, whose events must
 * not wait in a compressor), responses already encoded or marked `Cache-Control: no-transform`,
 * and statuses without a body.
 */
export function compression(options: CompressionOptions = {}): Middleware {
  const minimumSize = options.minimumSize ?? 1024;
  const offered = [...(options.encodings ?? ["br", "gzip"])];
  const gzipOptions = { level: options.gzipLevel ?? 6 };
  const brotliOptions = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: options.brotliQuality ?? 4 } };
  let negotiatorClass: typeof Negotiator | undefined;

  return async (req, next) => {
    const response = await next();
    const accept = req.headers["accept-encoding"];
    if (accept === undefined) return response;
    // A file's range or 304 is decided first: a part of a file, or no body at all, is not compressed.
    if (isFileBody(response.body)) await prepareFile(response, req);
    if (!worthCompressing(response, req.method)) return response;
    negotiatorClass ??= createRequire(import.meta.url)("negotiator") as typeof Negotiator;
    const encoding = new negotiatorClass({ headers: { "accept-encoding": accept } }).encodings(offered)[0] as Encoding | undefined;
    appendVary(response.headers, "accept-encoding");
    if (encoding === undefined) return response;
    const { body } = response;
    if (isStreamBody(body)) {
      const length = knownLength(body);
      if (length !== undefined && length < minimumSize) return response;
      response.body = compressStream(body, () => (encoding === "br" ? zlib.createBrotliCompress(brotliOptions) : zlib.createGzip(gzipOptions)));
    } else {
      const size = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
      if (size < minimumSize) return response;
      response.body = encoding === "br" ? await brotli(body, brotliOptions) : await gzip(body, gzipOptions);
    }
    response.headers["content-encoding"] = encoding;
    // The bytes differ from the identity encoding's: a strong validator must not claim otherwise.
    const etag = response.headers.etag;
    if (typeof etag === "string" && !etag.startsWith("W/")) response.headers.etag = `W/${etag}`;
    return response;
  };
}

function worthCompressing(response: OutgoingResponse, method: string): boolean {
  const { status, headers } = response;
  if (method === "HEAD" || status < 200 || status === 204 || status === 205 || status === 304) return false;
  if (headers["content-encoding"] !== undefined || headers["content-range"] !== undefined) return false;
  const cacheControl = headers["cache-control"];
  if (typeof cacheControl === "string" && /\bno-transform\b/i.test(cacheControl)) return false;
  const type = headers["content-type"];
  return typeof type === "string" && compressible.test(type);
}

/**
 * The body compressed chunk by chunk, each flushed as it comes so a slow stream keeps its pace.
 * The source is closed when the client leaves, even before the first chunk was asked for (a
 * generator's `return()` before it started would skip its `finally`, leaving an open file open).
 */
function compressStream(body: StreamBody, make: () => zlib.Gzip | zlib.BrotliCompress): StreamBody {
  const compressed = compressing(body, make);
  let started = false;
  const iterator: AsyncIterator<Uint8Array> = {
    next: () => {
      started = true;
      return compressed.next();
    },
    return: async () => {
      if (!started) closeSource(body);
      return compressed.return(undefined);
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}

async function* compressing(body: StreamBody, make: () => zlib.Gzip | zlib.BrotliCompress): AsyncGenerator<Uint8Array> {
  const compressor = make();
  const out: Buffer[] = [];
  compressor.on("data", (chunk: Buffer) => out.push(chunk));
  let finished = false;
  try {
    for await (const chunk of body) {
      await new Promise<void>((resolve, reject) => {
        compressor.write(chunk, (error) => error && reject(error));
        compressor.flush(() => resolve());
      });
      if (out.length > 0) yield Buffer.concat(out.splice(0));
    }
    finished = true;
    await new Promise<void>((resolve, reject) => {
      compressor.once("end", resolve);
      compressor.once("error", reject);
      compressor.end();
    });
    if (out.length > 0) yield Buffer.concat(out.splice(0));
  } finally {
    if (!finished) closeSource(body);
    compressor.close();
  }
}
