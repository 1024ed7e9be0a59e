// `loopwise/security`: the security dependencies, each declaring its scheme in OpenAPI.
export {
  httpBasic,
  httpBearer,
  type HttpAuthorizationCredentials,
  type HttpBasicCredentials,
  type HttpBasicOptions,
  type HttpBearerOptions,
} from "./security/http-auth.js";
export { apiKeyCookie, apiKeyHeader, apiKeyQuery, type ApiKeyOptions } from "./security/api-key.js";
export { oauth2PasswordBearer, oauth2PasswordForm, type OAuth2PasswordBearerOptions, type OAuth2PasswordRequestForm } from "./security/oauth2.js";
export type { SecurityOptions } from "./security/scheme.js";
export { compareSecrets } from "./security/compare-secrets.js";
