// How a request crosses to a worker thread or a worker process, and what the receiving side makes
// of it. The request is plain data in its own fields (the structured clone copies nothing else:
// its signal and socket stay behind). A File does not survive the clone (Node copies it as a bare
// Blob, name and path lost), and a large one must not be copied at all, so a request with uploads
// crosses as a copy whose uploads are descriptors (the path of a spooled file, the bytes of a
// small one), turned back into UploadFile before the handler runs. Uploads are looked for where a
// form puts them: the body's own fields and the lists in them.
import type { HttpRequest } from "../http/request.js";
import { hasUploads, isUploadDescriptor, noteUploads, UploadFile, type UploadDescriptor } from "../params/upload-file.js";

const crossingMark = "~uploads";

/** The uploads a request carries as descriptors (for a worker process, which must not be sent a path). */
export function uploadsOf(req: HttpRequest): UploadDescriptor[] {
  const found: UploadDescriptor[] = [];
  if ((req as { [crossingMark]?: 1 })[crossingMark] === undefined) return found;
  mapUploads(req.body, (value) => {
    if (isUploadDescriptor(value)) found.push(value);
    return value;
  });
  return found;
}

/** What to send for `req`: itself, unless it holds uploads. */
export function encodeRequest<T extends HttpRequest>(req: T): T {
  if (!hasUploads(req)) return req;
  const copy = { ...req, body: mapUploads(req.body, (u) => (u instanceof UploadFile ? u.toDescriptor() : u)), [crossingMark]: 1 };
  return copy as T;
}

/**
 * On the receiving side: gives the request the task's signal (the caller's, which could not be
 * cloned), makes its uploads files again, then runs `run` (at once when there are none).
 */
export function receiveRequest<T>(req: HttpRequest, signal: AbortSignal | undefined, run: (req: HttpRequest) => T): T | Promise<T> {
  Object.defineProperty(req, "signal", { value: signal ?? neverAborted, enumerable: false, configurable: true });
  const revived = reviveUploads(req);
  return revived === undefined ? run(req) : revived.then(() => run(req));
}

const neverAborted = new AbortController().signal;

/** Turns the descriptors back into UploadFile; undefined when the request had none. */
function reviveUploads(req: HttpRequest): Promise<void> | undefined {
  const crossed = req as HttpRequest & { [crossingMark]?: 1 };
  if (crossed[crossingMark] === undefined) return undefined;
  delete crossed[crossingMark];
  // Files again, and noted so: a worker process's loop may send the request on to its own pool.
  noteUploads(req);
  const pending: Promise<void>[] = [];
  req.body = mapUploads(req.body, (value, put) => {
    if (!isUploadDescriptor(value)) return value;
    const upload = UploadFile.fromDescriptor(value as UploadDescriptor);
    if (upload instanceof Promise) pending.push(upload.then(put));
    return upload;
  });
  return Promise.all(pending).then(() => {});
}

type Mapper = (value: unknown, put: (replacement: unknown) => void) => unknown;

/** A shallow copy of a form-shaped body with `map` applied to each field and each item of a list. */
function mapUploads(body: unknown, map: Mapper): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body) || ArrayBuffer.isView(body)) return body;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(body)) {
    const value = (body as Record<string, unknown>)[key];
    const put = (replacement: unknown) =>
      void Object.defineProperty(out, key, { value: replacement, enumerable: true, writable: true, configurable: true });
    if (Array.isArray(value)) {
      const list = value.slice();
      list.forEach((item, i) => {
        list[i] = map(item, (replacement) => (list[i] = replacement));
      });
      put(list);
    } else put(map(value, put));
  }
  return out;
}
