// Two connected in-memory sockets, for the TestClient's WebSockets: one end goes to an HTTP
// server that never listens (`server.emit("connection", end)`), the other to a `ws` client, so
// the handshake and every frame go through the real parsers with no port. Writes wait for the
// other end to read (backpressure), and ending or destroying one end is end-of-stream for the other.
import { Duplex } from "node:stream";

class SocketEnd extends Duplex {
  peer!: SocketEnd;
  /** A write waiting for the peer to read. */
  private waiting: (() => void) | undefined;
  private eof = false;
  readonly remoteAddress = "testclient";
  readonly remotePort = 0;

  // What net.Socket offers and `ws` and node:http call on their sockets.
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }

  endOfStream(): void {
    if (this.eof || this.destroyed) return;
    this.eof = true;
    this.push(null);
  }

  override _read(): void {
    const release = this.peer.waiting;
    this.peer.waiting = undefined;
    release?.();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const peer = this.peer;
    if (peer.destroyed || peer.eof) {
      done();
      return;
    }
    if (peer.push(chunk)) done();
    else this.waiting = done;
  }

  override _final(done: (error?: Error | null) => void): void {
    this.peer.endOfStream();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    // Like a closed TCP connection: what was sent stays readable, then the stream ends.
    this.peer.endOfStream();
    const release = this.waiting;
    this.waiting = undefined;
    release?.();
    done(error);
  }
}

export function socketPair(): [SocketEnd, SocketEnd] {
  const a = new SocketEnd();
  const b = new SocketEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
