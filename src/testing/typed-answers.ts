// What a TestClient's answers are typed as: for an app built by chaining, the data of the route
// a concrete path (`/items/3`) reaches; for any other app or path, `any`, as before. Types only.
import type { RoutesOf } from "../app/route-types.js";

/** `"/items/:id"` as the concrete paths it matches: `/items/${string}`. */
type Pattern<K extends string> = K extends `${infer Head}:${infer Rest}`
  ? Rest extends `${string}/${infer Tail}`
    ? `${Head}${string}/${Pattern<Tail>}`
    : `${Head}${string}`
  : K extends `${infer Head}*`
    ? `${Head}${string}`
    : K;

type WithoutQuery<P extends string> = P extends `${infer Path}?${string}` ? Path : P;

type Matching<R, M extends string, P extends string> = {
  [K in keyof R & string]: P extends Pattern<K>
    ? R[K] extends infer Methods
      ? Methods[M & keyof Methods] extends { data: infer D }
        ? D
        : never
      : never
    : never;
}[keyof R & string];

/** The JSON a successful answer of `method path` carries: typed from the route, `any` when unknown. */
export type AnswerData<A, M extends string, P extends string> =
  unknown extends RoutesOf<A> ? any : [Matching<RoutesOf<A>, M, WithoutQuery<P>>] extends [never] ? any : Matching<RoutesOf<A>, M, WithoutQuery<P>>;
