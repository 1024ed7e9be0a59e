// The types of a route: what its handler receives and may return, checked against its options,
// and what an app built by chaining (`new App().get(...).post(...)`) remembers of each route so a
// client can be typed from it (src/client). Types only: nothing here runs.
import type { DependencyMap, DependencyValues } from "../deps/dependency.js";
import type { PathParams } from "../http/path-params.js";
import type { Reply } from "../http/reply.js";
import type { Headers, HttpRequest, Query } from "../http/request.js";
import type { OutgoingResponse } from "../http/response.js";
import type { RouteOptions } from "./router.js";
import type { UploadFile } from "../params/upload-file.js";
import type { StandardSchemaV1 } from "../params/standard-schema.js";
import type { HTTPValidationError, ErrorBody } from "../params/validation-error.js";

type Out<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : never;
type In<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : never;

/** A file field (`z.file()`) arrives as an UploadFile, which is a File with a path and more. */
type AsUpload<V> = V extends File ? UploadFile : V extends readonly File[] ? UploadFile[] : V;
type HasFile<B> = true extends { [K in keyof B]-?: NonNullable<B[K]> extends File | readonly File[] ? true : false }[keyof B] ? true : false;
/** The body a handler receives: the schema's output, with its file fields typed as uploads. */
type BodyOf<B> = B extends object ? (HasFile<B> extends true ? { [K in keyof B]: AsUpload<B[K]> } : B) : B;
type MaybePromise<T> = T | Promise<T>;

/** The request a handler of `path` declared with `options` receives: typed from the schemas given. */
export type RequestFor<Path extends string, O> = HttpRequest<
  O extends { params: StandardSchemaV1 } ? Out<O["params"]> : PathParams<Path>,
  O extends { query: StandardSchemaV1 } ? Out<O["query"]> : Query,
  O extends { body: StandardSchemaV1 } ? BodyOf<Out<O["body"]>> : unknown,
  O extends { headers: StandardSchemaV1 } ? Headers & Out<O["headers"]> : Headers,
  O extends { cookies: StandardSchemaV1 } ? Out<O["cookies"]> : Record<string, string>
>;

/** A route answering 204 or 304 sends no body: nothing, or a ready-made response. */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler with no return statement returns void.
type NoBody = void | undefined | null | OutgoingResponse | Response;

/** Answers declared by `responses`: status → schema. */
export type DeclaredResponses = { [status: number]: StandardSchemaV1 };

/** What the declared `responses` schemas take, each as a `reply()` with its status. */
type DeclaredReplies<O> = O extends { responses: infer R } ? { [K in keyof R]: Reply<In<R[K]>> }[keyof R] : never;

/** The items a streaming route (`sse` or `jsonLines`) sends: what its schema takes, or for SSE an event carrying it. */
type StreamItem<O> = O extends { sse: StandardSchemaV1 }
  ? In<O["sse"]> | { data?: In<O["sse"]>; event?: string; id?: string | number; retry?: number; comment?: string }
  : O extends { jsonLines: StandardSchemaV1 }
    ? In<O["jsonLines"]>
    : never;

/** What such a handler may return: anything, or what the `response` schema takes (or a ready-made response). */
export type ReturnFor<O> = O extends { status: 204 | 304 }
  ? MaybePromise<NoBody>
  : O extends { sse: StandardSchemaV1 } | { jsonLines: StandardSchemaV1 }
    ? MaybePromise<AsyncIterable<StreamItem<O>> | Iterable<StreamItem<O>> | OutgoingResponse | Response>
    : O extends { response: StandardSchemaV1 }
      ? MaybePromise<In<O["response"]> | Reply<In<O["response"]>> | DeclaredReplies<O> | OutgoingResponse | Response | Uint8Array>
      : unknown;

export type DepsFor<O> = O extends { deps: DependencyMap } ? DependencyValues<O["deps"]> : {};

export type HandlerFor<Path extends string, O> = (req: RequestFor<Path, O>, deps: DepsFor<O>) => ReturnFor<O>;

/**
 * What the types check of a route's options against its path, as the app checks it at
 * registration: each `params` key is a parameter of the path, and a 204 or 304 route declares no
 * `response` body. A mistake turns the option's type into a sentence saying what is wrong. Keys
 * are checked on an app's own routes only: a router's prefix may hold parameters its type does not know.
 */
export type CheckedOptions<Path extends string, O, Self> = ParamsInPath<Path, O, Self> & NoBodyDeclared<O>;

type ParamsInPath<Path extends string, O, Self> = Self extends { readonly routes: readonly unknown[] }
  ? O extends { params: StandardSchemaV1 }
    ? [Exclude<keyof StandardSchemaV1.InferInput<O["params"]>, keyof PathParams<Path>>] extends [never]
      ? unknown
      : {
          params: `params key "${Extract<Exclude<keyof StandardSchemaV1.InferInput<O["params"]>, keyof PathParams<Path>>, string>}" is not a parameter of the path ${Path}`;
        }
    : unknown
  : unknown;

type NoBodyDeclared<O> = O extends { status: 204 | 304; response: StandardSchemaV1 }
  ? { response: "a 204 or 304 route sends no body: remove response" }
  : unknown;

// ---- What a chained app remembers of its routes ----

/**
 * One route as a client sees it: what it sends (`input`, the schemas' input types) and what it
 * gets back (`data` on a 2xx, `error` otherwise).
 */
export interface RouteSpec {
  input: { params: unknown; query: unknown; body: unknown; headers: unknown };
  data: unknown;
  error: unknown;
}

/** Routes by path as written (`"/items/:id"`), then by method: what `createClient<typeof app>` reads. */
export type RouteTable = Record<string, Partial<Record<string, RouteSpec>>>;

/**
 * The routes a chained app or router carries in its type: a property that exists in types only.
 * Each `.get(...)` intersects one more; intersected tables merge, path by path.
 */
export interface Routed<R> {
  /** Types only: never set. (Kept in the published types, where the client reads it.) */
  readonly "~routes"?: R;
}

/** The route table carried by an app's or router's type (`unknown` when it was built statement by statement). */
export type RoutesOf<T> = T extends { readonly "~routes"?: infer R } ? (unknown extends R ? unknown : R) : unknown;

/** "/" and "" are no prefix; a trailing slash is dropped, as Router's constructor does. */
export type NormalizePrefix<P extends string> = P extends "" | "/" ? "" : P extends `${infer Head}/` ? Head : P;

/** A router's prefix as its type knows it; a prefix known only at run time (`string`) is taken as none. */
type PrefixOf<Self> = Self extends { readonly prefix: infer P extends string } ? (string extends P ? "" : P) : "";

/** What the client sends as path params: the schema's input, or each name of the path as a string or number. */
type ParamsInput<Path extends string, O> = O extends { params: StandardSchemaV1 }
  ? In<O["params"]>
  : keyof PathParams<Path> extends never
    ? undefined
    : { [K in keyof PathParams<Path>]: string | number };

type InputOf<O, K extends string> = O extends { [P in K]: StandardSchemaV1 } ? In<O[K]> : undefined;
/** A route without a query or body schema reads what comes as it is: the client may send any. */
type LooseInputOf<O, K extends string, Loose> = O extends { [P in K]: StandardSchemaV1 } ? In<O[K]> : Loose | undefined;

/** A value the handler returns as it is sent: a ready-made response says nothing of its body. */
type SentData<R> = R extends Reply<infer T> ? T : R extends OutgoingResponse | Response | Uint8Array ? unknown : R;

type DeclaredData<O, Success extends boolean> = O extends { responses: infer R }
  ? { [K in keyof R]: K extends number | `${number}` ? (IsSuccess<K> extends Success ? Out<R[K]> : never) : never }[keyof R]
  : never;

type IsSuccess<K> = `${K & (string | number)}` extends `2${string}` ? true : false;

/** What a route answers on success: its `response` schema's output (the handler's own return type without one). */
type DataOf<O, R> =
  | (O extends { status: 204 | 304 } | { sse: unknown } | { jsonLines: unknown }
      ? undefined
      : O extends { response: StandardSchemaV1 }
        ? Out<O["response"]>
        : SentData<Awaited<R>>)
  | DeclaredData<O, true>;

/** What a route may answer with otherwise: its declared error answers, the 422 when it validates, and the framework's `{ detail }`. */
type ErrorOf<O> =
  | DeclaredData<O, false>
  | (O extends { params: unknown } | { query: unknown } | { body: unknown } | { headers: unknown } | { cookies: unknown }
      ? HTTPValidationError
      : never)
  | ErrorBody;

export type SpecOf<Path extends string, O, R> = {
  input: {
    params: ParamsInput<Path, O>;
    query: LooseInputOf<O, "query", Record<string, unknown>>;
    body: LooseInputOf<O, "body", unknown>;
    headers: InputOf<O, "headers">;
  };
  data: DataOf<O, R>;
  error: ErrorOf<O>;
};

/** The type `router.get(path, ...)` returns: the router, carrying one more route. */
export type WithRoute<Self, M extends string, Path extends string, O, R> = Self &
  Routed<{ [K in `${PrefixOf<Self>}${Path}`]: { [Method in M]: SpecOf<Path, O, R> } }>;

/** Another table's routes under a prefix (what `include()` and `mount()` add). */
export type Prefixed<Prefix extends string, R> = unknown extends R ? unknown : { [K in keyof R & string as `${Prefix}${K}`]: R[K] };

/** `app.include(router)`'s type: the app, carrying the router's routes (if its type has them) under the app's prefix. */
export type WithIncluded<Self, R> = unknown extends RoutesOf<R> ? Self : Self & Routed<Prefixed<PrefixOf<Self>, RoutesOf<R>>>;

/** `app.mount(prefix, other)`'s type: the app, carrying the other app's routes under the prefix. */
export type WithMounted<Self, Prefix extends string, A> =
  unknown extends RoutesOf<A> ? Self : Self & Routed<Prefixed<NormalizePrefix<Prefix>, RoutesOf<A>>>;

/**
 * `router.get(path, handler)` or `router.get(path, options, handler)`, typed once for every
 * method. It returns the router itself; its type also carries the new route, so an app built
 * by chaining is typed route by route.
 */
export interface RouteMethod<Self, M extends string = string> {
  <Path extends string, H extends (req: HttpRequest<PathParams<Path>>, deps: {}) => unknown>(
    path: Path,
    handler: H,
  ): WithRoute<Self, M, Path, {}, ReturnType<H>>;
  <Path extends string, O extends RouteOptions, H extends HandlerFor<Path, O>>(
    path: Path,
    options: O & CheckedOptions<Path, O, Self>,
    handler: H,
  ): WithRoute<Self, M, Path, O, ReturnType<H>>;
}
