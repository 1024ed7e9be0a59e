export { cors, type CorsOptions } from "./cors.js";
export { compression, type CompressionOptions, type Encoding } from "./compression.js";
export { trustedHost, type TrustedHostOptions } from "./trusted-host.js";
export { httpsRedirect } from "./https-redirect.js";
export { requestId, type RequestIdOptions } from "./request-id.js";
