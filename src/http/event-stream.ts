// Server-Sent Events and JSON Lines: two formats of a streamed body, each a wrapper around the
// handler's own iterable. The server streams them like any other body (backpressure, the
// client leaving stops the source); these only say how each item is written.
import { describeValue } from "../pool/protocol.js";
import { stream, type BodyChunk, type OutgoingResponse, type ResponseInit } from "./response.js";
import { encodeJson } from "./json-encoding.js";
import { describeIssues, type ValueSchema } from "./schema-issues.js";

/** One event; a plain string or any other value is sent as the `data` of an unnamed event. */
export interface ServerSentEvent {
  /** Sent as it is when a string, as JSON otherwise; each line of it becomes a `data:` line. */
  data?: unknown;
  /** The event's type (`addEventListener(type)` in the browser); unnamed events reach `onmessage`. */
  event?: string;
  /** Echoed by the browser as `Last-Event-ID` when it reconnects (`req.headers["last-event-id"]`). */
  id?: string | number;
  /** How long the browser waits before reconnecting, ms. */
  retry?: number;
  /** A comment line, ignored by browsers. */
  comment?: string;
}

export interface EventStreamInit extends ResponseInit {
  /** Validates each event's `data` (a plain item is the data): an invalid one ends the stream with a logged error, before a byte of it is written. */
  item?: ValueSchema;
  /**
   * Sends a comment line after this many ms without an event (default 15 000; 0 turns it off),
   * so proxies that close idle connections keep this one, and a client that left is noticed.
   */
  keepAliveMs?: number;
}

const eventHeaders = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" };

/**
 * A `text/event-stream` response: each item `source` yields goes out as one event, at once.
 *
 *     app.get("/ticks", async () => sse(ticks()));
 *     async function* ticks() { for (let i = 0; ; i++) { yield { event: "tick", data: { i } }; await sleep(1000); } }
 */
export function sse(source: AsyncIterable<unknown> | Iterable<unknown>, init: EventStreamInit = {}): OutgoingResponse {
  const { keepAliveMs = 15_000, item, ...rest } = init;
  const checked =
    item === undefined ? source : validatedItems(source, item, "event", (event) => (isEventObject(event) ? event.data : event), withData);
  return stream(withKeepAlive(checked, keepAliveMs), { ...rest, headers: { ...eventHeaders, ...init.headers } });
}

export interface JsonLinesInit extends ResponseInit {
  /** Validates each line's value: an invalid one ends the stream with a logged error, before a byte of it is written. */
  item?: ValueSchema;
}

/** An item of a stream did not match its schema: the stream ends there (the error is logged; the client sees an incomplete body). */
export class StreamItemError extends Error {
  override readonly name = "StreamItemError";
}

/**
 * A JSON Lines response (`application/jsonl`): each item `source` yields goes out as one line
 * of JSON, at once.
 */
export function jsonLines(source: AsyncIterable<unknown> | Iterable<unknown>, init: JsonLinesInit = {}): OutgoingResponse {
  const { item, ...rest } = init;
  const checked =
    item === undefined
      ? source
      : validatedItems(
          source,
          item,
          "line",
          (value) => value,
          (_, value) => value,
        );
  return stream(
    mapItems(checked, (value) => `${encodeJson(value)}\n`),
    {
      ...rest,
      headers: { "content-type": "application/jsonl", ...init.headers },
    },
  );
}

/**
 * The source's items, each checked by `schema` before it goes on (the part `pick` reads, put
 * back by `put` as the schema gave it: Zod strips keys it does not know). The first invalid one
 * throws, so nothing of it is written.
 */
async function* validatedItems(
  source: AsyncIterable<unknown> | Iterable<unknown>,
  schema: ValueSchema,
  what: string,
  pick: (item: unknown) => unknown,
  put: (item: unknown, value: unknown) => unknown,
): AsyncGenerator<unknown> {
  let index = 0;
  for await (const item of source) {
    const value = pick(item);
    // An event with nothing but a comment, a name or an id carries no data to check.
    if (value === undefined && what === "event" && isEventObject(item)) {
      yield item;
      continue;
    }
    let result = schema["~standard"].validate(value);
    if (result instanceof Promise) result = await result;
    if (result.issues) {
      throw new StreamItemError(`${what} ${index} of the stream does not match its item schema: ${describeIssues(result.issues)}`);
    }
    yield put(item, result.value);
    index++;
  }
}

function withData(item: unknown, data: unknown): unknown {
  return isEventObject(item) ? { ...item, data } : data;
}

/** One event in the wire format; `data` over several lines becomes several `data:` lines. */
export function formatEvent(item: unknown): string {
  const event: ServerSentEvent = isEventObject(item) ? item : { data: item };
  let out = "";
  if (event.comment !== undefined) out += lines(String(event.comment), ":");
  if (event.event !== undefined) out += field("event", String(event.event));
  if (event.id !== undefined) out += field("id", String(event.id));
  if (event.retry !== undefined) {
    if (!Number.isInteger(event.retry) || event.retry < 0)
      throw new TypeError(`an event's retry must be a whole number of ms, got ${describeValue(event.retry)}`);
    out += `retry: ${event.retry}\n`;
  }
  if (event.data !== undefined) out += lines(typeof event.data === "string" ? event.data : encodeJson(event.data), "data:");
  return `${out}\n`;
}

function isEventObject(item: unknown): item is ServerSentEvent {
  if (item === null || typeof item !== "object" || Array.isArray(item)) return false;
  const keys = Object.keys(item);
  return keys.length > 0 && keys.every((key) => key === "data" || key === "event" || key === "id" || key === "retry" || key === "comment");
}

/** A field whose value cannot hold a line break (it would end the field early and inject another). */
function field(name: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new TypeError(`an event's ${name} cannot contain a line break`);
  return `${name}: ${value}\n`;
}

function lines(text: string, prefix: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => `${prefix} ${line}\n`)
    .join("");
}

async function* mapItems(source: AsyncIterable<unknown> | Iterable<unknown>, format: (item: unknown) => string): AsyncGenerator<BodyChunk> {
  for await (const item of source) yield format(item);
}

/**
 * The source's events, with a comment sent whenever it stays quiet for `keepAliveMs`. The
 * source's pending `next()` is kept across keep-alives, never asked twice.
 */
async function* withKeepAlive(source: AsyncIterable<unknown> | Iterable<unknown>, keepAliveMs: number): AsyncGenerator<BodyChunk> {
  const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : toAsync(source[Symbol.iterator]());
  let finished = false;
  try {
    let pending = iterator.next();
    while (true) {
      let timer: NodeJS.Timeout | undefined;
      const quiet = new Promise<typeof keepAlive>((resolve) => {
        if (keepAliveMs > 0) timer = setTimeout(resolve, keepAliveMs, keepAlive);
      });
      const next = await Promise.race([pending, quiet]);
      clearTimeout(timer);
      if (next === keepAlive) {
        yield ": keep-alive\n\n";
        continue;
      }
      if (next.done) {
        finished = true;
        return;
      }
      yield formatEvent(next.value);
      pending = iterator.next();
    }
  } finally {
    // The client left (or a write failed): the source's own `finally` runs. Not awaited: a source
    // stuck in an await of its own would otherwise hold this stream open.
    if (!finished) iterator.return?.()?.catch(() => {});
  }
}

const keepAlive = Symbol("keep-alive");

function toAsync(iterator: Iterator<unknown>): AsyncIterator<unknown> {
  return {
    next: async () => iterator.next(),
    return: async () => iterator.return?.() ?? { done: true, value: undefined },
  };
}

/** What a streaming route's handler returned as its items: a list, a generator, an async iterable; undefined for a ready-made response. */
export function itemSource(value: unknown): AsyncIterable<unknown> | Iterable<unknown> | undefined {
  if (Array.isArray(value)) return value;
  if (value === null || typeof value !== "object") return undefined;
  if (Symbol.asyncIterator in value) return value as AsyncIterable<unknown>;
  return Object.prototype.toString.call(value) === "[object Generator]" ? (value as Iterable<unknown>) : undefined;
}
