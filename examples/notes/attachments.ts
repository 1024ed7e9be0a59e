// The attachments of the notes service: `POST /notes/:id/attachments` takes one file of up to
// 20 MiB in a multipart form, as it streams in (spooled to a temporary file, never held whole),
// stores it under the note's folder and answers with its name, size and SHA-256;
// `GET /notes/:id/attachments/:filename` sends it back, with Range (206), ETag and 304.
//
//     app.include(attachments({ dir: "/var/lib/notes" }));
import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { file, HttpError, Router } from "loopwise";

export const maxAttachmentSize = 20 * 1024 * 1024;

export interface AttachmentOptions {
  /** Where attachments are kept, one folder per note. */
  dir: string;
  /** Whether a note exists (default: every id does). */
  hasNote?: (id: number) => boolean;
}

const Attachment = z.object({ file: z.file() });

export function attachments({ dir, hasNote = () => true }: AttachmentOptions): Router {
  const router = new Router({ prefix: "/notes", tags: ["attachments"] });
  router.post(
    "/:id/attachments",
    {
      params: z.object({ id: z.number().int().positive() }),
      body: Attachment,
      formLimits: { maxFileSize: maxAttachmentSize, maxFiles: 1 },
      status: 201,
    },
    async function addAttachment(req) {
      const { id } = req.params;
      if (!hasNote(id)) throw new HttpError(404, "Note not found");
      const { file } = req.body;
      // The client's name, without a path (Loopwise cuts it off), and only characters safe in a file name.
      const filename = safeName(file.name);
      if (filename === undefined) throw new HttpError(422, "The file needs a name");
      const hash = createHash("sha256");
      for await (const chunk of file.stream()) hash.update(chunk);
      await mkdir(join(dir, String(id)), { recursive: true });
      await file.save(join(dir, String(id), filename));
      return { filename, size: file.size, sha256: hash.digest("hex") };
    },
  );
  router.get(
    "/:id/attachments/:filename",
    { params: z.object({ id: z.number().int().positive(), filename: z.string() }) },
    async function readAttachment(req) {
      const { id, filename } = req.params;
      // The name comes from the URL, decoded: `..%2F..%2Fetc%2Fpasswd` arrives as `../../etc/passwd`.
      // Only a name the upload could have stored is looked for.
      if (safeName(filename) !== filename) throw new HttpError(404, "No such attachment");
      // Opened when the answer is sent: a file that is not there is a 404, a Range header gets a 206.
      return file(join(dir, String(id), filename), { filename });
    },
  );
  return router;
}

/** A name safe in a file system (no path, no dotfile), or undefined when nothing of it is left. */
function safeName(name: string): string | undefined {
  const safe = name.replace(/[^\w.\- ]/g, "_");
  return safe === "" || safe.startsWith(".") ? undefined : safe;
}
