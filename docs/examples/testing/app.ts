// docs/testing.md: an app whose dependencies a test replaces (a user service, a database).
import { App, HttpError, depends } from "loopwise";
import { httpBearer } from "loopwise/security";

export const app = new App();

const bearer = httpBearer();

// In production this asks an identity service; a test will not want to.
export const currentUser = depends({ deps: { auth: bearer } }, async function currentUser(_req, { auth }) {
  const response = await fetch("https://id.example.com/userinfo", { headers: { authorization: `Bearer ${auth.credentials}` } });
  if (!response.ok) throw new HttpError(401, "Invalid token", { "www-authenticate": "Bearer" });
  return (await response.json()) as { name: string };
});

// A plain dependency: it opens a (blocking) database connection on the worker that runs the route.
export const database = depends(function database() {
  throw new Error("no database in this example: tests replace it");
});

app.get("/me", { deps: { user: currentUser } }, async (_req, { user }) => ({ name: user.name }));

// Plain: runs on a worker, and so do its dependencies.
app.get("/items", { deps: { db: database, user: currentUser } }, (_req, { db, user }) => ({
  owner: user.name,
  items: (db as { list(): string[] }).list(),
}));
