// `loopwise/middleware`: the built-in middleware (CORS, compression, trusted hosts, HTTPS redirect,
// request id, the Connect adapter), written against the middleware API of the core like any app's own.
export { cors, type CorsOptions } from "./middleware/cors.js";
export { compression, type CompressionOptions, type Encoding } from "./middleware/compression.js";
export { trustedHost, type TrustedHostOptions } from "./middleware/trusted-host.js";
export { httpsRedirect } from "./middleware/https-redirect.js";
export { requestId, type RequestIdOptions } from "./middleware/request-id.js";
export { connect, ConnectResponse, type ConnectMiddleware, type ConnectNext } from "./middleware/connect.js";
