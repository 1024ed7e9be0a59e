// Path parameter names inferred from a route path, so `req.params.id` is typed:
//     PathParams<"/users/:userId/items/:itemId"> = { userId: string; itemId: string }

type NameOf<Segment extends string> = Segment extends `${infer Name}(${string}` ? Name : Segment;

type ParamNames<Path extends string> = Path extends `${string}:${infer Rest}`
  ? Rest extends `${infer Segment}/${infer Tail}`
    ? NameOf<Segment> | ParamNames<Tail>
    : NameOf<Rest>
  : never;

type WildcardName<Path extends string> = Path extends `${string}*` ? "*" : never;

export type PathParams<Path extends string> = {
  [K in ParamNames<Path> | WildcardName<Path>]: string;
};
