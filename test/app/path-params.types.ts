// Compile-time checks (run by `npm run typecheck`): path parameters are typed from the path.
import { App, type PathParams } from "loopwise";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expect = <T extends true>(_: T) => {};

expect<Equal<PathParams<"/users/:userId/items/:itemId">, { userId: string; itemId: string }>>(true);
expect<Equal<PathParams<"/files/*">, { "*": string }>>(true);
expect<Equal<PathParams<"/n/:id(^\\d+)">, { id: string }>>(true);
expect<Equal<PathParams<"/plain">, {}>>(true);

const app = new App();
app.get("/users/:userId", (req) => {
  const id: string = req.params.userId;
  // @ts-expect-error: no such parameter in the path
  req.params.other;
  return { id };
});
app.post("/items", { status: 201, lane: "worker" }, async (req) => req.body);
// @ts-expect-error: lanes are "loop" or "worker"
app.get("/bad", { lane: "thread" }, () => null);
