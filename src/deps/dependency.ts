// `depends(fn)`: a value a handler needs, computed per request by a function that follows the
// lane rule (async → loop, plain → pool), may need other dependencies, and may clean up.
import { laneOf, type Lane } from "../threads/lane.js";
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
  /** Phantom: the value type, for inference only. */
  readonly __value?: T;
}

export interface DependsOptions<D extends DependencyMap> {
  /** Sub-dependencies, resolved first and passed as the second argument. */
  deps?: D;
  /** Override the lane rule for this dependency. */
  lane?: Lane;
}

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
  return {
    [brand]: true,
    fn: fn as Dependency["fn"],
    lane: laneOf(fn, options.lane),
    deps,
    name: fn.name || "anonymous dependency",
    hasCleanup: fn instanceof GeneratorFunction || fn instanceof AsyncGeneratorFunction,
  };
}

export function isDependency(value: unknown): value is Dependency {
  return typeof value === "object" && value !== null && brand in value;
}

/**
 * A route's dependencies in the order they must run: every sub-dependency before what needs
 * it, each once (so a dependency used twice in one request runs once: FastAPI's cache).
 */
export function dependencyOrder(roots: Dependency[]): Dependency[] {
  const order: Dependency[] = [];
  const visiting = new Set<Dependency>();
  const visit = (dep: Dependency) => {
    if (order.includes(dep)) return;
    if (visiting.has(dep)) throw new TypeError(`dependency cycle through ${dep.name}`);
    visiting.add(dep);
    for (const sub of Object.values(dep.deps)) visit(sub);
    visiting.delete(dep);
    order.push(dep);
  };
  roots.forEach(visit);
  return order;
}
