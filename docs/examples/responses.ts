// docs/responses.md: what becomes JSON, cookies, streamed bodies on both lanes, server-sent
// events, JSON Lines, typed stream items, and the raw body beside the parsed one.
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { App, HttpError, jsonLines, sleepSync, sse, stream, text } from "loopwise";

export const app = new App();

class Book {
  constructor(
    readonly title: string,
    readonly pages: number,
  ) {}
  get long() {
    return this.pages > 500;
  }
}

// Values JSON.stringify would get wrong are encoded as stated (the same on both lanes).
app.get("/encoded", () => ({
  stock: new Map([["dune", 3]]),
  tags: new Set(["sf", "classic"]),
  isbn: 9780441013593n,
  cover: Buffer.from("png"),
  published: new Date(Date.UTC(1965, 7, 1)),
  book: new Book("Dune", 617),
}));

// What has no JSON form is a 500 whose log names the route and where the value sits.
app.get("/unencodable", async () => ({ rows: Promise.resolve([]) }));

// Several cookies in one answer, one of them deleted.
app.post("/login", async () =>
  text("welcome", {
    cookies: {
      session: { value: "s3cr3t", httpOnly: true, sameSite: "lax", maxAge: 3600 },
      theme: "dark",
      tracking: null,
    },
  }),
);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// An async generator streams on the event loop: each chunk goes out when it is yielded.
app.get("/countdown", async function* () {
  for (let i = 3; i > 0; i--) {
    yield `${i}...\n`;
    await sleep(300);
  }
  yield "liftoff\n";
});

// A plain generator runs on a worker, and each chunk crosses back as soon as it is yielded.
app.get("/report", function* () {
  for (const part of ["header\n", "rows\n", "footer\n"]) {
    sleepSync(200); // blocking work between chunks: it holds its worker, never the loop
    yield part;
  }
});

// stream() sets the headers of a streamed body; this one is CSV.
app.get("/export.csv", async () => stream(rows(), { headers: { "content-type": "text/csv" } }));
async function* rows() {
  yield "id,name\n";
  for (let id = 1; id <= 3; id++) yield `${id},item ${id}\n`;
}

// Server-sent events: three events 300 ms apart, resumable from Last-Event-ID.
app.get("/ticks", async (req) => {
  const from = Number(req.headers["last-event-id"] ?? -1) + 1;
  return sse(ticks(from, 3));
});
async function* ticks(from: number, count: number) {
  for (let i = from; i < from + count; i++) {
    if (i > from) await sleep(300);
    yield { event: "tick", id: i, data: { i } };
  }
}

// JSON Lines: one JSON value per line.
app.get("/items.jsonl", async () => jsonLines([{ id: 1 }, { id: 2 }]));

// Typed items: each one validated by the schema before it is sent, and documented in /openapi.json.
const Reading = z.object({ sensor: z.string(), celsius: z.number() }).meta({ id: "Reading" });
app.get("/readings.jsonl", { jsonLines: Reading }, async function* readings() {
  yield { sensor: "north", celsius: 21.5 };
  // Keys the schema does not know are dropped, as from a response schema.
  yield { sensor: "south", celsius: 19, calibrated: true };
});

// The raw bytes, for checking a webhook's signature.
const secret = "whsec_example";
app.post("/webhook", async (req) => {
  const expected = createHmac("sha256", secret)
    .update(req.rawBody ?? "")
    .digest();
  const given = Buffer.from(String(req.headers["x-signature"] ?? ""), "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new HttpError(401, "Bad signature");
  return { received: req.body };
});
