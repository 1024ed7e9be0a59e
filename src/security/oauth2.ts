// OAuth2 with the password flow (FastAPI's OAuth2PasswordBearer and OAuth2PasswordRequestForm):
// a bearer token on every route, and the form the token route reads username and password from.
// Swagger UI's Authorize button posts that form to `tokenUrl` and sends the token it gets back.
import { registerDependency, type Dependency } from "../deps/dependency.js";
import type { HttpRequest } from "../http/request.js";
import { RequestValidationError, type ValidationIssue } from "../params/validation-error.js";
import { authorization, isToken } from "./authorization.js";
import { securityDependency, type SecurityOptions } from "./scheme.js";

export interface OAuth2PasswordBearerOptions extends SecurityOptions {
  /** The route that exchanges username and password for a token, e.g. "/token" (where /docs posts its form). */
  tokenUrl: string;
  /** The scopes the app knows, by name, with a description each (shown in /docs). */
  scopes?: Record<string, string>;
  refreshUrl?: string;
}

type Value<O extends SecurityOptions> = O extends { autoError: false } ? string | undefined : string;

/**
 * The token of `Authorization: Bearer <token>`; missing or malformed: 401 with
 * `WWW-Authenticate: Bearer`. Documents the password flow, so /docs shows Authorize with a login form.
 *
 *     const token = oauth2PasswordBearer({ tokenUrl: "/token" });
 *     const user = depends({ deps: { token } }, async (_req, { token }) => userForToken(token));
 */
export function oauth2PasswordBearer<O extends OAuth2PasswordBearerOptions>(options: O): Dependency<Value<O>> {
  if (typeof options?.tokenUrl !== "string" || options.tokenUrl === "") {
    throw new TypeError('oauth2PasswordBearer: tokenUrl must be the path of the token route, such as "/token"');
  }
  const password: Record<string, unknown> = { tokenUrl: options.tokenUrl, scopes: options.scopes ?? {} };
  if (options.refreshUrl !== undefined) password.refreshUrl = options.refreshUrl;
  return securityDependency("OAuth2PasswordBearer", options, { type: "oauth2", flows: { password } }, "Bearer", (req) => {
    const found = authorization(req.headers.authorization);
    if (found?.scheme.toLowerCase() !== "bearer" || !isToken(found.credentials)) return undefined;
    return found.credentials;
  }) as Dependency<Value<O>>;
}

/** The token route's form, as `oauth2PasswordForm` gives it. */
export interface OAuth2PasswordRequestForm {
  /** "password" when sent (the OAuth2 spec requires it; this form takes it missing too, as FastAPI's does). */
  grantType: string | undefined;
  username: string;
  password: string;
  /** The `scope` field split on spaces. */
  scopes: string[];
  clientId: string | undefined;
  clientSecret: string | undefined;
}

const formSchema = {
  type: "object",
  required: ["username", "password"],
  properties: {
    grant_type: { type: "string", pattern: "^password$" },
    username: { type: "string" },
    password: { type: "string", format: "password" },
    scope: { type: "string", default: "" },
    client_id: { type: "string" },
    client_secret: { type: "string", format: "password" },
  },
};

const formTypes = ["application/x-www-form-urlencoded", "multipart/form-data"];

/**
 * The OAuth2 password form of a token route (`application/x-www-form-urlencoded`), validated:
 * a missing username or password, a repeated field or a `grant_type` other than "password" is a
 * 422 in the usual shape. It documents the form body in OpenAPI.
 *
 *     app.post("/token", { deps: { form: oauth2PasswordForm } }, async (_req, { form }) => ({
 *       access_token: await login(form.username, form.password), token_type: "bearer",
 *     }));
 */
export const oauth2PasswordForm: Dependency<OAuth2PasswordRequestForm> = registerDependency(
  async function oauth2PasswordForm(req: HttpRequest) {
    return readForm(req);
  },
  // Named here: in the bundled package the function's own name may be changed (a clash with the const).
  { name: "oauth2PasswordForm", docs: { requestBody: { "application/x-www-form-urlencoded": { schema: formSchema } } } },
) as Dependency<OAuth2PasswordRequestForm>;

function readForm(req: HttpRequest): OAuth2PasswordRequestForm {
  const type = String(req.headers["content-type"] ?? "")
    .split(";", 1)[0]!
    .trim()
    .toLowerCase();
  const body = formTypes.includes(type) && req.body !== null && typeof req.body === "object" ? (req.body as Record<string, unknown>) : {};
  const issues: ValidationIssue[] = [];
  const field = (name: string, required: boolean): string | undefined => {
    const value = body[name];
    if (value === undefined) {
      if (required) issues.push({ type: "missing", loc: ["body", name], msg: "Field required", input: null });
      return undefined;
    }
    if (typeof value !== "string") {
      issues.push({ type: "string_type", loc: ["body", name], msg: "Input should be a valid string", input: value });
      return undefined;
    }
    return value;
  };
  const grantType = field("grant_type", false);
  if (grantType !== undefined && grantType !== "password") {
    issues.push({ type: "string_pattern_mismatch", loc: ["body", "grant_type"], msg: "String should match pattern '^password$'", input: grantType });
  }
  const username = field("username", true);
  const password = field("password", true);
  const scope = field("scope", false) ?? "";
  const clientId = field("client_id", false);
  const clientSecret = field("client_secret", false);
  if (issues.length > 0) throw new RequestValidationError(issues);
  return { grantType, username: username!, password: password!, scopes: scope.split(/\s+/).filter(Boolean), clientId, clientSecret };
}
