// `depends(fn)`: a value a handler needs, computed per request by a function that follows the
// lane rule (async → loop, plain → pool), may need other dependencies, and may clean up.
import { laneOf, type Lane } from "../threads/lane.js";
import { ModuleRegistry } from "../pool/module-registry.js";
import type { HttpRequest } from "../http/request.js";

const brand = Symbol.for("loopwise.dependency");

/** Named dependencies, as a route, a dependency or an app declares them. */
export type DependencyMap = Record<string, Dependency<any>>;

/** What the handler receives for a map of dependencies: each one's value. */
export type DependencyValues<D> = { [K in keyof D]: D[K] extends Dependency<infer T> ? T : never };

/** What a dependency function provides: a generator's (first) yield, a promise's value, or the value. */
export type Provided<R> = R extends Generator<infer Y, any, any> ? Y : R extends AsyncGenerator<infer Y, any, any> ? Y : Awaited<R>;

export interface Dependency<T = unknown> {
  readonly [brand]: true;
  readonly fn: (req: HttpRequest<any, any, any, any, any>, deps: any) => unknown;
  readonly lane: Lane;
  readonly deps: DependencyMap;
  /** The function's name (for logs and errors). */
  readonly name: string;
  /** A generator: the code after its `yield` is its cleanup. */
  readonly hasCleanup: boolean;
  /**
   * Where `depends()` was called, as "module URL#position": the same in every thread that imports
   * that module, so a worker can find this dependency (an override's replacement, say) by it.
   */
  readonly key: string | undefined;
  /** What the dependency adds to the OpenAPI document of the routes that use it (a security scheme, a form body). */
  readonly docs?: DependencyDocs;
  /** Phantom: the value type, for inference only. */
  readonly __value?: T;
}

/** A dependency's part of the OpenAPI document. */
export interface DependencyDocs {
  /** A security scheme: declared under components.securitySchemes and required by each operation that uses it. */
  security?: { name: string; scheme: Record<string, unknown>; scopes: string[] };
  /** The request body's content by media type, for a route that declares no `body` schema (the OAuth2 token form). */
  requestBody?: Record<string, { schema: Record<string, unknown> }>;
}

export interface DependsOptions<D extends DependencyMap> {
  /** Sub-dependencies, resolved first and passed as the second argument. */
  deps?: D;
  /** Override the lane rule for this dependency. */
  lane?: Lane;
}

/** Every dependency made by depends(), by the key of where it was made. */
const registry = new ModuleRegistry<Dependency>("dependency");

const GeneratorFunction = function* () {}.constructor;
const AsyncGeneratorFunction = async function* () {}.constructor;

/**
 * Declares a dependency. Its function gets the request (validated) and its own dependencies'
 * values; what it returns, resolves to or yields is the value. Code after a generator's `yield`
 * runs once the handler's response is ready (in reverse order of setup), also when it failed:
 *
 *     const db = depends(function* () { const c = open(); try { yield c } finally { c.close() } });
 *     const user = depends({ deps: { db } }, async (req, { db }) => findUser(db, req.headers.authorization));
 *     app.get("/me", { deps: { user } }, async (req, { user }) => user);
 */
export function depends<R>(fn: (req: HttpRequest, deps: {}) => R, options?: { lane?: Lane }): Dependency<Provided<R>>;
export function depends<D extends DependencyMap, R>(
  options: DependsOptions<D>,
  fn: (req: HttpRequest, deps: DependencyValues<D>) => R,
): Dependency<Provided<R>>;
export function depends(a: unknown, b?: unknown): Dependency {
  const [fn, options] = typeof a === "function" ? [a, (b ?? {}) as DependsOptions<DependencyMap>] : [b, a as DependsOptions<DependencyMap>];
  if (typeof fn !== "function") throw new TypeError("depends() takes a function (and optionally options before it)");
  const deps = options.deps ?? {};
  for (const [name, dep] of Object.entries(deps)) {
    if (!isDependency(dep))
      throw new TypeError(`depends(${fn.name || "anonymous"}): "${name}" is not a dependency; wrap its function with depends()`);
  }
  return registerDependency(fn as Dependency["fn"], { lane: options.lane, deps });
}

/** depends() with the rest of what a dependency can carry: kept apart from the public signature. */
export function registerDependency(fn: Dependency["fn"], options: Omit<DependencyParts, "key">): Dependency {
  return registry.add((key) => makeDependency(fn, { ...options, key })).value;
}

interface DependencyParts {
  lane?: Lane;
  deps?: DependencyMap;
  key?: string;
  name?: string;
  docs?: DependencyDocs;
}

/** A dependency known by no key (it never needs to be found from another thread): built-ins, fixed values. */
export function makeDependency(fn: Dependency["fn"], options: DependencyParts = {}): Dependency {
  return {
    [brand]: true,
    fn,
    lane: laneOf(fn, options.lane),
    deps: options.deps ?? {},
    name: options.name ?? (fn.name || "anonymous dependency"),
    hasCleanup: fn instanceof GeneratorFunction || fn instanceof AsyncGeneratorFunction,
    key: options.key,
    docs: options.docs,
  };
}

/** The dependency made by depends() at `key`, if this thread has imported its module. */
export function dependencyByKey(key: string): Dependency | undefined {
  return registry.get(key);
}

/** The module a dependency key names (the part before the last "#"). */
export function moduleOfKey(key: string): string {
  return key.slice(0, key.lastIndexOf("#"));
}

export function isDependency(value: unknown): value is Dependency {
  return typeof value === "object" && value !== null && brand in value;
}

/** One dependency of a route's plan: the one declared (`slot`, by which its value is known) and the one that runs (an override's replacement, or the same). */
export interface PlanStep {
  slot: Dependency;
  run: Dependency;
}

/**
 * A route's dependencies in the order they must run: every sub-dependency before what needs
 * it, each once (so a dependency used twice in one request runs once: FastAPI's cache). A
 * dependency in `overrides` is replaced by its replacement, whose own dependencies run instead.
 */
export function dependencySteps(roots: Dependency[], overrides?: ReadonlyMap<Dependency, Dependency>): PlanStep[] {
  const steps: PlanStep[] = [];
  const done = new Set<Dependency>();
  const visiting = new Set<Dependency>();
  const visit = (slot: Dependency) => {
    if (done.has(slot)) return;
    if (visiting.has(slot)) throw new TypeError(`dependency cycle through ${slot.name}`);
    visiting.add(slot);
    const run = overrides?.get(slot) ?? slot;
    for (const sub of Object.values(run.deps)) visit(sub);
    visiting.delete(slot);
    done.add(slot);
    steps.push({ slot, run });
  };
  roots.forEach(visit);
  return steps;
}

/** The declared plan, without overrides: each dependency in the order it runs. */
export function dependencyOrder(roots: Dependency[]): Dependency[] {
  return dependencySteps(roots).map((step) => step.slot);
}
