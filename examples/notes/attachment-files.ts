// The notes service's attachments, read back (the file half of item 7 of its contract):
// GET /notes/:id/attachments/:filename sends the stored file, with Range (206), ETag and 304.
// The upload half stores each file at attachmentPath(id, filename); main.ts adds these routes
// with `app.include(attachmentFiles)`.
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { z } from "zod";
import { file, HTTPError, Router } from "loopwise";

/** Where attachments are kept, a directory per note: NOTES_ATTACHMENTS_DIR, else one in the system's temporary directory. */
export const attachmentsDir = process.env.NOTES_ATTACHMENTS_DIR ?? join(tmpdir(), "loopwise-notes-attachments");

/**
 * Where a note's attachment is kept, or undefined for a name that is not a plain file name: the
 * name comes from the URL, already decoded, so `..%2F..%2Fetc%2Fpasswd` arrives as `../../etc/passwd`.
 */
export function attachmentPath(noteId: number, filename: string): string | undefined {
  const plain = filename !== "" && basename(filename) === filename && !filename.startsWith(".") && !/[\\\0]/.test(filename);
  return plain ? join(attachmentsDir, String(noteId), filename) : undefined;
}

export const attachmentFiles = new Router();

const Attachment = z.object({ id: z.coerce.number().int().positive(), filename: z.string() });

attachmentFiles.get("/notes/:id/attachments/:filename", { params: Attachment }, async function readAttachment(req) {
  const path = attachmentPath(req.params.id, req.params.filename);
  if (path === undefined) throw new HTTPError(404, "No such attachment");
  // Opened when the answer is sent: a file that is not there is a 404, a Range header gets a 206.
  return file(path, { filename: req.params.filename });
});
