// The request a handler receives on the main thread. Plain data in own fields (what crosses to
// a worker: structured clone copies own enumerable fields only), plus `signal`, made on first
// use, that aborts when the client goes away before its answer.
import type { IncomingMessage } from "node:http";
import type { Headers, HttpRequest, Peer, Query, Scheme } from "../http/request.js";
import type { CancelSignal } from "../pool/pool-options.js";
import { cancelSignalKey } from "../lanes/task.js";
import type { AppLogger } from "../log/app-log.js";
import type { Context } from "@opentelemetry/api";
import { requestTraceKey } from "./lane-span.js";
import { bodyLimitKey, incomingKey } from "./fetch-mount.js";
import { matchedRouteKey, requestLogger, type RouteName } from "../log/request-log.js";

export class RequestData implements HttpRequest {
  query: Query = {};
  cookies: Record<string, string> = {};
  body: unknown = undefined;
  // Declared, not initialised: a field that is there only when set costs nothing to copy to a worker.
  declare rawBody?: Uint8Array;
  declare requestId?: string;
  client: string;
  scheme: Scheme;
  #source: IncomingMessage;
  #abort: AbortController | undefined;
  #log: AppLogger | undefined;
  /** The route it matched, once routed (symbol-keyed: it does not cross with the request). */
  declare [matchedRouteKey]?: RouteName;
  /** For a mounted Fetch handler's route only: the body limit of the body it streams. */
  declare [bodyLimitKey]?: number;

  /** The Node request (a mounted Fetch handler streams its body; Connect middleware is given it). */
  get [incomingKey](): IncomingMessage {
    return this.#source;
  }

  constructor(
    source: IncomingMessage,
    public method: string,
    public url: string,
    public path: string,
    public params: Record<string, string>,
    public headers: Headers,
    peer: Peer,
    public rootPath: string,
  ) {
    this.#source = source;
    this.client = peer.client;
    this.scheme = peer.scheme;
  }

  /**
   * The client's leaving as the pool's cancel signal, for a task sent on this request's behalf:
   * one listener on the request, no AbortController (which costs more than a trivial task).
   */
  get [cancelSignalKey](): CancelSignal {
    return new ClientGone(this.#source);
  }

  /** The context of the request's SERVER span, while tracing (see tracing/server-span.ts). */
  get [requestTraceKey](): Context | undefined {
    return (this.#source as { [requestTraceKey]?: Context })[requestTraceKey];
  }

  get log(): AppLogger {
    // Made again if middleware gave the request its id after a first line.
    if (this.#log === undefined || this.#logId !== this.requestId) {
      this.#logId = this.requestId;
      this.#log = requestLogger(this.requestId, this[matchedRouteKey], "loop");
    }
    return this.#log;
  }
  #logId: string | undefined;

  get signal(): AbortSignal {
    if (this.#abort) return this.#abort.signal;
    const abort = (this.#abort = new AbortController());
    const gone = this[cancelSignalKey];
    if (gone.aborted) abort.abort(clientGone());
    else gone.addEventListener("abort", () => abort.abort(clientGone()));
    return abort.signal;
  }
}

/** A request closes when its answer is done or when its client goes: only the second leaves the socket destroyed. */
class ClientGone implements CancelSignal {
  #listener: (() => void) | undefined;

  constructor(private readonly source: IncomingMessage) {}

  get aborted(): boolean {
    return (this.source.socket as IncomingMessage["socket"] | undefined)?.destroyed === true;
  }

  addEventListener(_type: "abort", listener: () => void): void {
    this.#listener = () => this.aborted && listener();
    this.source.on("close", this.#listener);
  }

  removeEventListener(): void {
    if (this.#listener) this.source.off("close", this.#listener);
    this.#listener = undefined;
  }
}

function clientGone(): Error {
  const error = new Error("the client closed the connection before the answer was sent");
  error.name = "ClientClosedError";
  return error;
}
