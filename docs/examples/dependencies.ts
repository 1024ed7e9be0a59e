// docs/dependencies.md: depends(), sub-dependencies, cleanup, router-wide checks.
import { App, HttpError, Router, depends } from "loopwise";

export const app = new App();

// A dependency is a function of the request. Async, so it runs on the event loop.
const currentUser = depends(async function currentUser(req) {
  if (req.headers.authorization !== "Bearer secret") {
    throw new HttpError(401, "Not authenticated", { "www-authenticate": "Bearer" });
  }
  return { name: "ada", admin: false };
});

app.get("/me", { deps: { user: currentUser } }, async (_req, { user }) => user);

// A generator cleans up: the code after `yield` runs once the response is built, and sees
// the handler's error at the `yield` if there was one.
export const journal: string[] = [];
const transaction = depends({ deps: { user: currentUser } }, async function* transaction(_req, { user }) {
  journal.push(`begin for ${user.name}`);
  try {
    yield { user: user.name };
    journal.push("commit");
  } catch (error) {
    journal.push("rollback");
    throw error;
  }
});

app.post("/orders", { deps: { tx: transaction } }, async (req, { tx }) => {
  if (req.query.item === undefined) throw new HttpError(400, "Which item?");
  return { ordered: req.query.item, by: tx.user };
});

// Dependencies listed on a router run for every route in it, for their effect only.
const requireAdmin = depends({ deps: { user: currentUser } }, async function requireAdmin(_req, { user }) {
  if (!user.admin) throw new HttpError(403, "Admins only");
});
const admin = new Router({ prefix: "/admin", dependencies: [requireAdmin] });
admin.get("/stats", async () => ({ users: 1 }));
app.include(admin);
