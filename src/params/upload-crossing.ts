// How uploads cross to a worker. A File does not survive the structured clone (Node copies it as
// a bare Blob, name and path lost), and a large one must not be copied at all. So a request with
// uploads crosses as a copy whose uploads are descriptors (the path of a spooled file, the bytes of
// a small one), and the worker turns them back into UploadFile before the handler runs. Uploads
// are looked for where a form puts them: the body's own fields and the lists in them.
import type { HttpRequest } from "../http/request.js";
import { isUploadDescriptor, UploadFile, type UploadDescriptor } from "./upload-file.js";

const crossingMark = "~uploads";
const withUploads = new WeakSet<object>();

/** Remembers that `req` holds uploads (called by the form reader; most requests never are). */
export function noteUploads(req: HttpRequest): void {
  withUploads.add(req);
}

/** What to send to a worker for `req`: itself, unless it holds uploads. */
export function crossable<T extends HttpRequest>(req: T): T {
  if (!withUploads.has(req)) return req;
  const copy = { ...req, body: mapUploads(req.body, (u) => (u instanceof UploadFile ? u.toDescriptor() : u)), [crossingMark]: 1 };
  return copy as T;
}

/** In the worker: turns the descriptors back into UploadFile; undefined when the request had none. */
export function reviveUploads(req: HttpRequest): Promise<void> | undefined {
  const crossed = req as HttpRequest & { [crossingMark]?: 1 };
  if (crossed[crossingMark] === undefined) return undefined;
  delete crossed[crossingMark];
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
