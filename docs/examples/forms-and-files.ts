// Forms and files: form fields coerced like a query string's, uploads as UploadFile on both lanes.
import { createHash } from "node:crypto";
import { z } from "zod";
import { App } from "loopwise";

export const app = new App();

// A form's fields are strings, coerced like a query string's: "on" → true for a boolean field.
const Login = z.object({ username: z.string().min(1), password: z.string(), remember: z.boolean().default(false) });

// `accepts` takes forms only (a JSON body gets a 415), and documents the route as a form.
app.post("/login", { body: Login, accepts: ["application/x-www-form-urlencoded", "multipart/form-data"] }, async (req) => ({
  username: req.body.username,
  remember: req.body.remember,
}));

// A `z.file()` field makes the body a multipart form; the handler gets an UploadFile.
const Document = z.object({ title: z.string(), file: z.file().max(5 * 1024 * 1024) });

app.post("/files", { body: Document, status: 201 }, async (req) => {
  const { title, file } = req.body;
  return { title, filename: file.name, type: file.type, size: file.size, onDisk: file.path !== undefined };
});

// Several files in one field, and limits of the route's own (past one: a 413).
const Photos = z.object({ photos: z.array(z.file().mime(["image/png", "image/jpeg"])).min(1) });

app.post("/photos", { body: Photos, formLimits: { maxFiles: 20, maxFileSize: 20 * 1024 * 1024 } }, async (req) =>
  req.body.photos.map((photo) => ({ name: photo.name, size: photo.size })),
);

// A plain handler runs on a worker: the file crosses as its path (or its bytes, when small), and
// reading it whole there blocks no one.
app.post("/checksum", { body: z.object({ file: z.file() }) }, (req) => ({
  filename: req.body.file.name,
  sha256: createHash("sha256").update(req.body.file.bytesSync()).digest("hex"),
}));

// A large file, read as it streams from its temporary file: the route's memory stays small.
app.post("/stream", { body: z.object({ file: z.file() }), formLimits: { maxFileSize: 100 * 1024 * 1024 } }, async (req) => {
  const hash = createHash("sha256");
  for await (const chunk of req.body.file.stream()) hash.update(chunk);
  return { size: req.body.file.size, sha256: hash.digest("hex") };
});
