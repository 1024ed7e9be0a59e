// The attachments of the notes service: `POST /notes/:id/attachments` takes one file of up to
// 20 MiB in a multipart form, as it streams in (spooled to a temporary file, never held whole),
// stores it under the note's folder and answers with its name, size and SHA-256.
//
//     app.include(attachments({ dir: "/var/lib/notes" }));
import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { HTTPError, Router } from "loopwise";

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
      if (!hasNote(id)) throw new HTTPError(404, "Note not found");
      const { file } = req.body;
      // The client's name, without a path (Loopwise cuts it off), and only characters safe in a file name.
      const filename = file.name.replace(/[^\w.\- ]/g, "_");
      if (filename === "" || filename.startsWith(".")) throw new HTTPError(422, "The file needs a name");
      const hash = createHash("sha256");
      for await (const chunk of file.stream()) hash.update(chunk);
      await mkdir(join(dir, String(id)), { recursive: true });
      await file.save(join(dir, String(id), filename));
      return { filename, size: file.size, sha256: hash.digest("hex") };
    },
  );
  return router;
}
