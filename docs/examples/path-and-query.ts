// docs/path-and-query.md: path parameters, query strings, headers and cookies.
import { z } from "zod";
import { App } from "loopwise";

export const app = new App();

// Path parameters are strings, typed from the path: req.params.userId is a string.
app.get("/users/:userId", async (req) => ({ userId: req.params.userId }));

// A query key given once is a string, a repeated key an array, a missing one undefined.
app.get("/search", async (req) => ({ q: req.query.q, tag: req.query.tag }));

// Declare them with a schema to get numbers, defaults and checks.
const Page = z.object({
  skip: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(100).default(10),
  tag: z.array(z.string()).default([]),
});
app.get("/items/:id", { params: z.object({ id: z.number().int() }), query: Page }, async (req) => ({
  id: req.params.id, // a number
  ...req.query, // { skip: number, limit: number, tag: string[] }
}));

// Headers are matched by name, case-insensitively: `userAgent` reads the user-agent header.
const Client = z.object({ userAgent: z.string(), xRequestId: z.string().optional() });
const Session = z.object({ session: z.string().default("none") });
app.get("/whoami", { headers: Client, cookies: Session }, async (req) => ({
  agent: req.headers.userAgent,
  requestId: req.headers.xRequestId ?? null,
  session: req.cookies.session,
}));
