// HTTP bearer and HTTP basic authentication (FastAPI's HTTPBearer and HTTPBasic): the credentials
// from the Authorization header, a 401 with the scheme's challenge when they are missing or malformed.
import type { Dependency } from "../deps/dependency.js";
import { authorization, isToken } from "./authorization.js";
import { securityDependency, type SecurityOptions } from "./scheme.js";

/** What an HTTP bearer dependency gives: the scheme as sent and the token. */
export interface HttpAuthorizationCredentials {
  scheme: string;
  credentials: string;
}

/** What an HTTP basic dependency gives. */
export interface HttpBasicCredentials {
  username: string;
  password: string;
}

export interface HttpBearerOptions extends SecurityOptions {
  /** A hint for /docs about the token's format, such as "JWT". */
  bearerFormat?: string;
}

export interface HttpBasicOptions extends SecurityOptions {
  /** Sent in the challenge: `WWW-Authenticate: Basic realm="..."`. */
  realm?: string;
}

type Value<T, O extends SecurityOptions> = O extends { autoError: false } ? T | undefined : T;

/**
 * `Authorization: Bearer <token>`. Missing, another scheme, or no token: 401 with
 * `WWW-Authenticate: Bearer`. It only reads the token: checking it is the app's (see docs/security.md).
 *
 *     const bearer = httpBearer();
 *     app.get("/me", { deps: { auth: bearer } }, async (_req, { auth }) => findUser(auth.credentials));
 */
export function httpBearer<O extends HttpBearerOptions>(options: O = {} as O): Dependency<Value<HttpAuthorizationCredentials, O>> {
  const scheme: Record<string, unknown> = { type: "http", scheme: "bearer" };
  if (options.bearerFormat !== undefined) scheme.bearerFormat = options.bearerFormat;
  return securityDependency("HTTPBearer", options, scheme, "Bearer", (req) => {
    const found = authorization(req.headers.authorization);
    if (found?.scheme.toLowerCase() !== "bearer" || !isToken(found.credentials)) return undefined;
    return { scheme: found.scheme, credentials: found.credentials };
  }) as Dependency<Value<HttpAuthorizationCredentials, O>>;
}

/**
 * `Authorization: Basic <base64 of user:password>`. Missing, another scheme, bad base64, bytes
 * that are not UTF-8, control characters or no colon: 401 with `WWW-Authenticate: Basic`.
 * Compare the password with `compareSecrets()`, never with `===` (docs/security.md says why).
 */
export function httpBasic<O extends HttpBasicOptions>(options: O = {} as O): Dependency<Value<HttpBasicCredentials, O>> {
  const realm = options.realm;
  if (realm !== undefined && (typeof realm !== "string" || !/^[\x20-\x7e]*$/.test(realm) || /["\\]/.test(realm))) {
    throw new TypeError(`httpBasic: realm must be printable ASCII without quotes or backslashes, got ${JSON.stringify(realm)}`);
  }
  const challenge = realm === undefined ? "Basic" : `Basic realm="${realm}"`;
  return securityDependency("HTTPBasic", options, { type: "http", scheme: "basic" }, challenge, (req) => {
    const found = authorization(req.headers.authorization);
    if (found?.scheme.toLowerCase() !== "basic") return undefined;
    return decodeBasic(found.credentials);
  }) as Dependency<Value<HttpBasicCredentials, O>>;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** RFC 7617 allows no control characters in a user-id or password. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** RFC 7617's user-pass, or undefined for anything malformed. */
export function decodeBasic(encoded: string): HttpBasicCredentials | undefined {
  // Node's base64 decoder skips what it cannot read; a credential must not be guessed at.
  if (encoded === "" || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 === 1) return undefined;
  let text: string;
  try {
    text = utf8.decode(Buffer.from(encoded, "base64"));
  } catch {
    return undefined;
  }
  const colon = text.indexOf(":");
  if (colon < 0 || hasControlCharacter(text)) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}
