// The logger for application code: `log` anywhere, `req.log` in handlers and dependencies (a child
// that carries the request's id, route and lane). Its records go to one sink per thread: on the
// main thread the server's log (same format, same level, same batching), in a pool worker a
// message to the main thread, which adds the worker's id. Below the level nothing is built.
import { appLogSinkKey } from "../pool/protocol.js";
import { levelLabels, logLevels } from "./levels.js";

/** One line of application log, before it is formatted. */
export interface AppLogRecord {
  level: number;
  /** Epoch ms. */
  time: number;
  msg: string;
  /** The logger's bindings and the call's own fields. */
  fields: Record<string, unknown>;
}

export interface AppLogSink {
  /** Records below this number are dropped where they are made. */
  level: number;
  write(record: AppLogRecord): void;
}

// One sink per thread, whatever copy of this module the app and the server each loaded.
const holder = globalThis as { [appLogSinkKey]?: AppLogSink };

/** Where application lines go when no server runs (a script, a test): text on stderr, info and above. */
const stderrSink: AppLogSink = {
  level: logLevels.info,
  write(record) {
    process.stderr.write(
      `${new Date(record.time).toISOString()} ${levelLabels[record.level]} ${textMessage(record.msg)}${textFields(record.fields)}\n`,
    );
  },
};

/**
 * The message of a text line, one line whatever the app put in it: a newline or another control
 * character (from a request's own data, say) is escaped, so it cannot forge a line of its own.
 */
export function textMessage(msg: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is looked for
  return /[\u0000-\u001f\u007f]/.test(msg) ? JSON.stringify(msg).slice(1, -1) : msg;
}

/** A text line's fields: ` key=value` each, a value that is not a plain word quoted as JSON. */
export function textFields(fields: Record<string, unknown>): string {
  let out = "";
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    out += ` ${key}=${typeof value === "string" && /^[^\s"=]+$/.test(value) ? value : safeJson(value)}`;
  }
  return out;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value); // a cycle, a BigInt
  }
}

/** Sends this thread's application lines to `sink` (the server at startup, a pool worker at its start). */
export function setAppLogSink(sink: AppLogSink | undefined): AppLogSink | undefined {
  const previous = holder[appLogSinkKey];
  holder[appLogSinkKey] = sink;
  return previous;
}

export const currentAppLogSink = (): AppLogSink => holder[appLogSinkKey] ?? stderrSink;
const currentSink = currentAppLogSink;

type Fields = Record<string, unknown>;

/**
 * pino's calling forms: `log.info("message")`, `log.info({ user: 7 }, "message")`,
 * `log.error(error, "what failed")` (the error is recorded as `err`), and `log.info("message", { user: 7 })`.
 */
export type LogMethod = (first: string | Fields | Error, second?: string | Fields) => void;

export class AppLogger {
  readonly fatal: LogMethod;
  readonly error: LogMethod;
  readonly warn: LogMethod;
  readonly info: LogMethod;
  readonly debug: LogMethod;
  readonly trace: LogMethod;

  constructor(private readonly bindings: Fields = {}) {
    this.fatal = this.method(logLevels.critical);
    this.error = this.method(logLevels.error);
    this.warn = this.method(logLevels.warning);
    this.info = this.method(logLevels.info);
    this.debug = this.method(logLevels.debug);
    this.trace = this.method(logLevels.trace);
  }

  /** A logger whose lines also carry `bindings`. */
  child(bindings: Fields): AppLogger {
    return new AppLogger({ ...this.bindings, ...bindings });
  }

  /** Whether a line at `level` ("debug", "warn", ...) would be written: to skip building costly fields. */
  isLevelEnabled(level: "fatal" | "error" | "warn" | "info" | "debug" | "trace"): boolean {
    return pinoNumbers[level] >= currentSink().level;
  }

  private method(level: number): LogMethod {
    return (first, second) => {
      const sink = currentSink();
      if (level < sink.level) return;
      let msg: string;
      let own: Fields | undefined;
      if (typeof first !== "object" || first === null) {
        // A message, or from plain JavaScript anything else (a number, undefined): written as text.
        msg = String(first);
        own = typeof second === "object" && second !== null ? second : undefined;
      } else {
        own = first instanceof Error ? { err: errorFields(first) } : first;
        msg = typeof second === "string" ? second : first instanceof Error ? first.message : "";
      }
      sink.write({ level, time: Date.now(), msg, fields: own === undefined ? this.bindings : { ...this.bindings, ...own } });
    };
  }
}

const pinoNumbers = { fatal: 60, error: 50, warn: 40, info: 30, debug: 20, trace: 10 } as const;

/** An error as pino's serializer writes it: type, message, stack. */
function errorFields(error: Error): Fields {
  return { type: error.name, message: error.message, stack: error.stack };
}

/** The application's logger, for code outside a request (startup hooks, modules); in a request, prefer `req.log`. */
export const log = new AppLogger();
