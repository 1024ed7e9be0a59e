// Real WebSocket clients for the server tests: the `ws` library's client, and a raw TCP socket
// for handshakes and frames no well-behaved client would send.
import { connect, type Socket } from "node:net";
import WebSocket from "ws";

export interface Opened {
  ws: WebSocket;
  /** Every message, text as strings, in order. */
  messages: (string | Buffer)[];
  /** The next message (waits for it, at most 10 s). */
  next(): Promise<string | Buffer>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a WebSocket and resolves once it is open; rejects with `{ status, text }` when refused. */
export function openSocket(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}): Promise<Opened> {
  const ws = new WebSocket(url, options.protocols ?? [], options);
  const messages: (string | Buffer)[] = [];
  let read = 0;
  const listeners: (() => void)[] = [];
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    messages.push(isBinary ? data : data.toString("utf8"));
    for (const wake of listeners.splice(0)) wake();
  });
  ws.on("error", () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once("close", (code: number, reason: Buffer) => {
      resolve({ code, reason: reason.toString("utf8") });
      for (const wake of listeners.splice(0)) wake();
    }),
  );
  const next = async (): Promise<string | Buffer> => {
    const deadline = Date.now() + 10_000;
    while (read >= messages.length) {
      if (ws.readyState === WebSocket.CLOSED) throw new Error(`closed before message ${read + 1}`);
      if (Date.now() > deadline) throw new Error(`no message ${read + 1} within 10 s`);
      await new Promise<void>((resolve) => {
        listeners.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    return messages[read++]!;
  };
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve({ ws, messages, next, closed }));
    ws.once("unexpected-response", (_req, res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk));
      res.on("end", () => reject(Object.assign(new Error(`refused ${res.statusCode}`), { status: res.statusCode, headers: res.headers, text })));
    });
    ws.once("error", reject);
  });
}

export const handshakeHeaders = {
  connection: "Upgrade",
  upgrade: "websocket",
  "sec-websocket-version": "13",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
};

/** Sends raw bytes on a new TCP connection and collects what comes back until the server closes (or `waitMs` passes). */
export function rawExchange(url: string, bytes: string | Buffer, waitMs = 3000): Promise<{ text: string; data: Buffer; socket: Socket }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      const data = Buffer.concat(chunks);
      resolve({ text: data.toString("latin1"), data, socket });
    };
    const timer = setTimeout(done, waitMs);
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("close", done);
    socket.on("error", (error) => (chunks.length > 0 ? done() : reject(error)));
    socket.write(bytes);
  });
}

/** A handshake request as raw text. */
export function handshake(path: string, headers: Record<string, string> = handshakeHeaders, method = "GET"): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `${method} ${path} HTTP/1.1\r\nhost: localhost\r\n${lines.join("\r\n")}\r\n\r\n`;
}

/** A masked client frame (RFC 6455 §5.2) with the given opcode and payload. */
export function clientFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | length])
      : length < 65536
        ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 127]), bigLength(length)]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([header, mask, masked]);
}

function bigLength(length: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(length));
  return out;
}

/** The close code in the first close frame (opcode 8) the server sent after its 101, if any. */
export function closeCodeIn(data: Buffer): number | undefined {
  const start = data.indexOf("\r\n\r\n");
  let at = start < 0 ? 0 : start + 4;
  while (at + 2 <= data.length) {
    const opcode = data[at]! & 0x0f;
    let length = data[at + 1]! & 0x7f;
    let headerLength = 2;
    if (length === 126) {
      length = data.readUInt16BE(at + 2);
      headerLength = 4;
    } else if (length === 127) {
      length = Number(data.readBigUInt64BE(at + 2));
      headerLength = 10;
    }
    if (opcode === 8) return length >= 2 ? data.readUInt16BE(at + headerLength) : 1005;
    at += headerLength + length;
  }
  return undefined;
}
