// The request a handler receives on the main thread. Plain data in own fields (what crosses to
// a worker: structured clone copies own enumerable fields only), plus `signal`, made on first
// use, that aborts when the client goes away before its answer.
import type { IncomingMessage } from "node:http";
import type { Headers, HttpRequest, Query } from "../http/request.js";

export class RequestData implements HttpRequest {
  query: Query = {};
  cookies: Record<string, string> = {};
  body: unknown = undefined;
  #source: IncomingMessage;
  #abort: AbortController | undefined;

  constructor(
    source: IncomingMessage,
    public method: string,
    public url: string,
    public path: string,
    public params: Record<string, string>,
    public headers: Headers,
    public client: string,
  ) {
    this.#source = source;
  }

  get signal(): AbortSignal {
    if (this.#abort) return this.#abort.signal;
    const abort = (this.#abort = new AbortController());
    const source = this.#source;
    const socket = source.socket as IncomingMessage["socket"] | undefined;
    if (!socket) return abort.signal; // an in-process request (TestClient): no connection to lose
    if (socket.destroyed) abort.abort(clientGone());
    // A request closes when its answer is done or when its client goes: only the second leaves the socket destroyed.
    else source.once("close", () => socket.destroyed && abort.abort(clientGone()));
    return abort.signal;
  }
}

function clientGone(): Error {
  const error = new Error("the client closed the connection before the answer was sent");
  error.name = "ClientClosedError";
  return error;
}
