// What the server listens with and on: node:http, or node:https with the key and certificate
// files (checked before anything starts), on a host and port or on a Unix socket. Every way this
// can fail at startup says which file or path and why.
import { continueLater } from "../params/expect-continue.js";
import cluster from "node:cluster";
import { chmodSync, lstatSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { connect, Server as NetServer, type AddressInfo } from "node:net";
import { dirname } from "node:path";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import type { Scheme } from "../http/request.js";
import type { Config } from "./config.js";

export type Server = HttpServer | HttpsServer;

export type TransportConfig = Pick<
  Config,
  | "host"
  | "port"
  | "uds"
  | "backlog"
  | "bodyLimit"
  | "keepAliveTimeout"
  | "headersTimeout"
  | "requestTimeout"
  | "sslKeyfile"
  | "sslCertfile"
  | "sslKeyfilePassword"
>;

/** The longest Unix socket path: sockaddr_un holds 108 bytes on Linux (104 on macOS) with the final NUL. */
const maxSocketPathBytes = process.platform === "linux" ? 107 : 103;

/**
 * Reads and checks the TLS key and certificate; undefined for plain HTTP. Throws an error naming
 * the file that cannot be read, or saying why the pair cannot be used (not PEM, a wrong
 * passphrase, a key that does not match the certificate).
 */
export function loadTls(config: TransportConfig): SecureContextOptions | undefined {
  const { sslKeyfile, sslCertfile, sslKeyfilePassword } = config;
  if (sslKeyfile === undefined || sslCertfile === undefined) return undefined;
  const tls: SecureContextOptions = {
    key: readPem(sslKeyfile, "TLS key file (sslKeyfile)"),
    cert: readPem(sslCertfile, "TLS certificate file (sslCertfile)"),
    passphrase: sslKeyfilePassword,
  };
  const cannot = (reason: string) => new Error(`cannot serve HTTPS with the key ${sslKeyfile} and the certificate ${sslCertfile}: ${reason}`);
  // Said before OpenSSL is asked: its error for a missing passphrase differs between its versions
  // ("bad decrypt", or a decoder's "unsupported" as if the file were not a key).
  const encrypted = encryptedPem.test(tls.key!.toString("latin1"));
  if (encrypted && sslKeyfilePassword === undefined) throw cannot(passphraseProblem);
  try {
    createSecureContext(tls);
  } catch (error) {
    throw cannot(encrypted && /unsupported/i.test((error as Error).message) ? passphraseProblem : tlsReason(error as Error));
  }
  return tls;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new Error(`cannot read the ${what} ${path}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : message}`);
  }
}

/** A PEM private key encrypted with a passphrase: PKCS#8's own label, or the traditional format's header. */
const encryptedPem = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: *4, *ENCRYPTED/;
const passphraseProblem = "the key is encrypted and the passphrase (sslKeyfilePassword) is missing or wrong";

/** OpenSSL's reasons, in words a user can act on. */
function tlsReason(error: Error): string {
  const text = error.message;
  if (/bad decrypt|bad password|interrupted or cancelled|maybe wrong password/i.test(text)) return passphraseProblem;
  if (/key values mismatch/i.test(text)) return "the key does not belong to the certificate";
  if (/no start line|bad base64|unsupported|not enough data|asn1|header too long/i.test(text))
    return `a file is not a PEM key or certificate (${text})`;
  return text;
}

/** The HTTP or HTTPS server, with Loopwise's timeouts and its answers to malformed requests. */
export function createTransport(
  config: TransportConfig,
  tls: SecureContextOptions | undefined,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const options = {
    keepAliveTimeout: config.keepAliveTimeout,
    headersTimeout: config.headersTimeout,
    requestTimeout: config.requestTimeout,
    // How often Node checks the two timeouts above; its default of 30 s would let them overrun.
    connectionsCheckingInterval: Math.min(1000, config.headersTimeout),
  };
  // A client that opens a connection and never finishes the handshake is cut like one that never
  // sends its headers (Node would wait 120 s).
  const server = tls
    ? createHttpsServer({ ...options, ...tls, handshakeTimeout: config.headersTimeout }, onRequest)
    : createHttpServer(options, onRequest);
  // `Expect: 100-continue`: a body declared over the limit is refused (413, from the pipeline)
  // before the client sends it; Node's default would invite it first.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (!(Number(req.headers["content-length"]) > config.bodyLimit)) res.writeContinue();
    // A larger body may be a form its route streams (an upload): its reader invites it, or refuses it.
    else continueLater(req, () => res.writeContinue());
    onRequest(req, res);
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    // A failed TLS handshake (a timeout, plain HTTP on the HTTPS port) has no channel to answer on:
    // text written to it would wait for a handshake that never comes, and hold the connection.
    if (!socket.writable || error.code === "ECONNRESET" || /^ERR_(SSL|TLS)_/.test(error.code ?? "") || "library" in error) return socket.destroy();
    const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    const reason = STATUS_CODES[status]!;
    const body = JSON.stringify({ detail: reason });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `connection: close\r\n\r\n${body}`,
    );
  });
  return server;
}

/** The scheme of a connection to this server: what its client used to reach it directly. */
export const schemeOf = (tls: SecureContextOptions | undefined): Scheme => (tls ? "https" : "http");

/** Listens on the Unix socket (replacing a stale one) or on host and port; rejects with a clear error. */
export async function listenOn(server: Server, config: TransportConfig): Promise<void> {
  const { uds } = config;
  // Under --workers the parent listens for its children and has checked the path before forking them.
  if (uds !== undefined && !cluster.isWorker) await clearStaleSocket(uds);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      server.off("error", reject);
      resolve();
    };
    if (uds === undefined) server.listen({ port: config.port, host: config.host, backlog: config.backlog }, done);
    else server.listen({ path: uds, backlog: config.backlog }, done);
  }).catch((error: NodeJS.ErrnoException) => {
    throw uds === undefined ? error : socketError(uds, error);
  });
  // A proxy such as nginx usually runs as another user and must be able to connect, as with uvicorn.
  // Who may reach the socket is then up to the folder it is in.
  if (uds !== undefined) chmodSync(uds, 0o666);
}

function socketError(path: string, error: NodeJS.ErrnoException): Error {
  if (error.code === "EADDRINUSE") return new Error(`another server is listening on the Unix socket ${path}`);
  if (error.code === "EACCES") return new Error(`cannot create the Unix socket ${path}: permission denied`);
  return new Error(`cannot listen on the Unix socket ${path}: ${error.message}`);
}

/**
 * Makes `path` ready to listen on: a socket file nobody listens on (left by a crash) is removed.
 * Throws if the folder does not exist, the path is too long for a socket, something other than
 * a socket is there, or another server is listening on it.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  const bytes = Buffer.byteLength(path);
  // libuv would silently cut a longer path and listen somewhere else.
  if (bytes > maxSocketPathBytes)
    throw new Error(`the Unix socket path ${path} is ${bytes} bytes long; the system allows at most ${maxSocketPathBytes}`);
  const folder = dirname(path);
  if (!statOrUndefined(folder)?.isDirectory()) throw new Error(`cannot listen on the Unix socket ${path}: the folder ${folder} does not exist`);
  let existing: ReturnType<typeof lstatSync>;
  try {
    existing = lstatSync(path);
  } catch {
    return; // nothing there
  }
  if (!existing.isSocket()) throw new Error(`cannot listen on the Unix socket ${path}: a file that is not a socket is there (not removed)`);
  if (await socketAnswers(path)) throw new Error(`another server is listening on the Unix socket ${path}`);
  unlinkSync(path);
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Whether a server accepts connections on the socket file: refused means it is stale. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    // A busy server may be slow to accept; one that does not within a second is still not ours to remove.
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      // EAGAIN: its accept queue is full, so someone is there.
      if (error.code === "ECONNREFUSED" || error.code === "ENOENT") resolve(false);
      else if (error.code === "EAGAIN") resolve(true);
      else reject(new Error(`cannot tell whether a server listens on the Unix socket ${path}: ${error.message}`));
    });
  });
}

/** The server's address as a URL: `http(s)://host:port`, or `unix:PATH` for a Unix socket. */
export function addressOf(server: Server, config: TransportConfig, scheme: Scheme): { url: string; port: number } {
  if (config.uds !== undefined) return { url: `unix:${config.uds}`, port: 0 };
  const { port } = server.address() as AddressInfo;
  return { url: `${scheme}://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`, port };
}

/** How long connections a cluster child was handed just before its drain have to deliver their requests. */
const lastArrivalMs = 100;

/**
 * Stops listening, then waits a moment before Node's close() cuts the connections with no
 * request in progress. For a cluster child: its parent hands it connections until the child
 * stops listening, and one handed over just before may hold a request not read yet, which its
 * client has sent and would see reset. A request that arrives in the moment is answered (with
 * `Connection: close`, as the server is closing) and waited for like the others.
 */
export async function stopListeningFirst(server: Server): Promise<void> {
  NetServer.prototype.close.call(server);
  await new Promise((resolve) => setTimeout(resolve, lastArrivalMs));
}
