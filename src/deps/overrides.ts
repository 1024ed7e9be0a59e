// `app.dependencyOverrides`: FastAPI's `app.dependency_overrides`, a map from a dependency to what
// runs in its place, for tests and local development. The map itself is only the user's side:
// the app checks each change against its routes, re-plans them, and tells its workers (which
// imported the module themselves and must find the replacement on their own).
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import type { HttpRequest } from "../http/request.js";
import { describeValue } from "../pool/protocol.js";
import { isDependency, makeDependency, registerDependency, type Dependency } from "./dependency.js";

/** What may replace a dependency: another dependency, a function (made one), or a fixed value. */
export type Replacement<T> = Dependency<T> | ((req: HttpRequest, deps: {}) => unknown) | { value: T };

/** Told the whole next map before it is kept: throws to refuse it (a cycle, a lane it cannot run on, ...). */
export type OverridesChanged = (next: ReadonlyMap<Dependency, Dependency>) => void;

/** The fixed value a `{ value }` override stands for, by its replacement dependency. */
const fixedValues = new WeakMap<Dependency, { value: unknown }>();

export function fixedValueOf(replacement: Dependency): { value: unknown } | undefined {
  return fixedValues.get(replacement);
}

/** The dependency that gives `value` to every request (it runs where it is needed, never on the pool on its own). */
export function fixedValueDependency(original: Dependency, value: unknown): Dependency {
  const replacement = makeDependency(() => value, { lane: "loop", name: `${original.name} (overridden with a value)` });
  fixedValues.set(replacement, { value });
  return replacement;
}

/**
 * Replacements for dependencies, used by every route of the app on both lanes:
 *
 *     app.dependencyOverrides.set(currentUser, { value: { name: "test" } });   // a fixed value
 *     app.dependencyOverrides.set(database, fakeDatabase);                     // another depends()
 *     app.dependencyOverrides.clear();                                         // the originals again
 *
 * A replacement that a worker runs must be findable there: a `depends()` made at the top level of
 * a module the worker can import (not the test file itself), or a `{ value }` it can copy.
 */
export class DependencyOverrides {
  private map: ReadonlyMap<Dependency, Dependency> = new Map();

  constructor(private readonly changed: OverridesChanged) {}

  /** The replacements now in force, by the dependency each replaces. */
  get current(): ReadonlyMap<Dependency, Dependency> {
    return this.map;
  }

  get size(): number {
    return this.map.size;
  }

  /** Replaces `dependency` everywhere it is used (also as a sub-dependency) until deleted or cleared. */
  set<T>(dependency: Dependency<T>, replacement: Replacement<T>): this {
    if (!isDependency(dependency)) {
      throw new TypeError(`dependencyOverrides.set(): the first argument must be a dependency made with depends(), got ${describeValue(dependency)}`);
    }
    const next = new Map(this.map);
    next.set(dependency, asDependency(dependency, replacement));
    this.commit(next);
    return this;
  }

  /** The replacement of `dependency`, if it has one. */
  get(dependency: Dependency): Dependency | undefined {
    return this.map.get(dependency);
  }

  has(dependency: Dependency): boolean {
    return this.map.has(dependency);
  }

  /** Restores the original of one dependency. */
  delete(dependency: Dependency): boolean {
    if (!this.map.has(dependency)) return false;
    const next = new Map(this.map);
    next.delete(dependency);
    this.commit(next);
    return true;
  }

  /** Restores every original. */
  clear(): void {
    if (this.map.size > 0) this.commit(new Map());
  }

  /** Takes a whole map at once (a worker adopting the main thread's). */
  replaceAll(next: ReadonlyMap<Dependency, Dependency>): void {
    this.commit(new Map(next));
  }

  [Symbol.iterator](): IterableIterator<[Dependency, Dependency]> {
    return this.map.entries();
  }

  private commit(next: Map<Dependency, Dependency>): void {
    this.changed(next);
    this.map = next;
  }
}

function asDependency(original: Dependency, replacement: unknown): Dependency {
  if (isDependency(replacement)) return replacement;
  if (typeof replacement === "function") {
    // Known by where set() was called, like a depends() written there.
    return registerDependency(replacement as Dependency["fn"], { name: replacement.name || `${original.name} (override)` });
  }
  if (replacement !== null && typeof replacement === "object" && !Array.isArray(replacement) && Object.hasOwn(replacement, "value")) {
    return fixedValueDependency(original, (replacement as { value: unknown }).value);
  }
  throw new TypeError(
    `dependencyOverrides.set(${original.name}, ...): the replacement must be a dependency made with depends(), a function, ` +
      `or { value } for a fixed value; got ${describeValue(replacement)}`,
  );
}

/**
 * Whether a worker must not import `moduleUrl` to find a replacement: the process's entry script
 * or a test file, whose import in a worker would run its tests there.
 */
export function isTestOrEntryModule(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (entry && pathToFileURL(resolve(entry)).href === moduleUrl) return true;
  return /[._-](test|spec)\.[cm]?[jt]sx?$/.test(moduleUrl);
}
