// docs/security.md: OAuth2 password flow with its token route, HTTP basic, an API key, and a
// bearer token, each declared in OpenAPI so /docs shows Authorize.
import { randomBytes } from "node:crypto";
import { App, HttpError, depends } from "loopwise";
import { apiKeyHeader, compareSecrets, httpBasic, httpBearer, oauth2PasswordBearer, oauth2PasswordForm } from "loopwise/security";

export const app = new App({ title: "Security" });

// A stand-in for a user table; a real app stores a password hash (scrypt, argon2), never the password.
const users: Record<string, { username: string; fullName: string; password: string }> = {
  ada: { username: "ada", fullName: "Ada Lovelace", password: "secret" },
};
const sessions = new Map<string, string>();

// OAuth2 with the password flow: /docs posts its login form to tokenUrl and sends the token it gets back.
const token = oauth2PasswordBearer({ tokenUrl: "/token" });

app.post("/token", { deps: { form: oauth2PasswordForm } }, async function login(_req, { form }) {
  const user = users[form.username];
  // Compared whatever the username, so a wrong name takes as long as a wrong password.
  const passwordOk = compareSecrets(form.password, user?.password ?? "");
  if (!user || !passwordOk) throw new HttpError(400, "Incorrect username or password");
  const accessToken = randomBytes(16).toString("hex");
  sessions.set(accessToken, user.username);
  return { access_token: accessToken, token_type: "bearer" };
});

const currentUser = depends({ deps: { token } }, async function currentUser(_req, { token }) {
  const username = sessions.get(token);
  if (username === undefined) {
    throw new HttpError(401, "Invalid authentication credentials", { "www-authenticate": "Bearer" });
  }
  const { password: _, ...user } = users[username]!;
  return user;
});

app.get("/users/me", { deps: { user: currentUser } }, async function readUsersMe(_req, { user }) {
  return user;
});

// HTTP basic: the browser's own login prompt, for a small internal tool.
const basic = httpBasic({ realm: "reports" });

app.get("/basic/me", { deps: { credentials: basic } }, async function basicMe(_req, { credentials }) {
  // Both compared every time: `&&` would skip the password check for a wrong name, and tell.
  const userOk = compareSecrets(credentials.username, "stanley");
  const passwordOk = compareSecrets(credentials.password, "swordfish");
  if (!userOk || !passwordOk) {
    throw new HttpError(401, "Incorrect username or password", { "www-authenticate": 'Basic realm="reports"' });
  }
  return { username: credentials.username };
});

// An API key in a header, for machines rather than people.
const apiKey = apiKeyHeader({ name: "X-API-Key" });

app.get("/reports", { deps: { key: apiKey } }, async function listReports(_req, { key }) {
  if (!compareSecrets(key, "reports-key")) throw new HttpError(403, "Invalid API key");
  return [{ id: 1, title: "Q3" }];
});

// A bearer token checked by the app itself (a JWT library would verify a signature here).
const bearer = httpBearer({ bearerFormat: "opaque" });

app.get("/items", { deps: { auth: bearer } }, function listItems(_req, { auth }) {
  if (!compareSecrets(auth.credentials, "secret-token")) throw new HttpError(403, "Not allowed");
  return [{ name: "pen" }];
});
