// The types of `createClient<typeof app>()`: from the route table an app's type carries
// (src/app/route-types.ts), a method per HTTP verb that takes only that verb's paths, each with
// the inputs its schemas declare and the answers they promise. Types only.
import type { RouteSpec, RoutesOf } from "../app/route-types.js";

/** The verbs the client has a method for, with the route method each one reads. */
export interface Verbs {
  get: "GET";
  post: "POST";
  put: "PUT";
  patch: "PATCH";
  delete: "DELETE";
  head: "HEAD" | "GET";
  options: "OPTIONS";
}

type SpecAt<R, P extends keyof R, M extends string> = R[P] extends infer Methods ? Methods[M & keyof Methods] & RouteSpec : never;

/** The paths that have a route for method `M`, as written at registration (`"/items/:id"`). */
export type PathsFor<R, M extends string> = { [P in keyof R & string]: [Extract<keyof R[P], M>] extends [never] ? never : P }[keyof R & string];

/** Request options every call takes, typed or not. */
export interface CallOptions {
  /** Sent as they are; a route's declared `headers` are typed in `headers` instead. */
  extraHeaders?: Record<string, string>;
  signal?: AbortSignal;
}

type Field<K extends string, T> = [T] extends [undefined] ? { [P in K]?: undefined } : {} extends T ? { [P in K]?: T } : { [P in K]: T };

/** What a call to a route takes: the inputs its schemas declare, required where they are. */
export type RequestInit<S extends RouteSpec> = Field<"params", S["input"]["params"]> &
  Field<"query", S["input"]["query"]> &
  Field<"body", S["input"]["body"]> &
  Field<"headers", S["input"]["headers"]> &
  CallOptions;

/** The init argument, optional when nothing in it is required. */
export type InitArgs<S extends RouteSpec> = {} extends RequestInit<S> ? [init?: RequestInit<S>] : [init: RequestInit<S>];

/**
 * What every call resolves to, as openapi-fetch's: `data` on a 2xx (typed by the route's
 * response), `error` otherwise (its declared answers, the 422, the framework's `{ detail }`).
 */
export type ClientResult<Data, Error> =
  | { status: number; data: Data; error: undefined; response: Response }
  | { status: number; data: undefined; error: Error; response: Response };

type Typed<R, M extends string> = <P extends PathsFor<R, M>>(
  path: P,
  ...init: InitArgs<SpecAt<R, P, M>>
) => Promise<ClientResult<SpecAt<R, P, M>["data"], SpecAt<R, P, M>["error"]>>;

/** An untyped call: any path, any inputs, answers unknown (an app built statement by statement). */
export interface LooseInit extends CallOptions {
  params?: Record<string, string | number>;
  query?: Record<string, unknown>;
  body?: unknown;
  headers?: Record<string, unknown>;
}
type Loose = (path: string, init?: LooseInit) => Promise<ClientResult<unknown, unknown>>;

/** The client of an app whose type is `A`: typed when it was built by chaining, loose otherwise. */
export type Client<A> = unknown extends RoutesOf<A> ? { [V in keyof Verbs]: Loose } : { [V in keyof Verbs]: Typed<RoutesOf<A>, Verbs[V]> };
