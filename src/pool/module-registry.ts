import { callerModuleUrl } from "./caller-module.js";

/**
 * Gives things registered at a module's top level (blocking functions, shared memory) a key that
 * is the same in every thread: the registering module's URL and its position within that module.
 * Keys do not depend on which other modules a thread imported, so a main thread that serves
 * several apps and a worker that imports one of them agree.
 */
export class ModuleRegistry<T> {
  private readonly entries = new Map<string, T>();
  private readonly perModule = new Map<string, number>();

  constructor(private readonly kind: string) {}

  /** Registers `value` for the calling module; returns its key. */
  add(makeValue: (key: string) => T): { key: string; value: T } {
    const url = callerModuleUrl() ?? "unknown-module";
    const position = this.perModule.get(url) ?? 0;
    this.perModule.set(url, position + 1);
    const key = `${url}#${position}`;
    const value = makeValue(key);
    this.entries.set(key, value);
    return { key, value };
  }

  get(key: string): T | undefined {
    return this.entries.get(key);
  }

  /** One line per entry, for the start-up comparison between threads. */
  signature(describe: (value: T) => string = () => ""): string[] {
    return [...this.entries].map(([key, value]) => this.line(key, describe(value)));
  }

  /** The line of a signature that names the entry `key`, described as `description`. */
  line(key: string, description = ""): string {
    return `${this.kind} ${key} ${description}`.trimEnd();
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }
}
