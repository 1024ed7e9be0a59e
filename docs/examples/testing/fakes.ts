// Replacements the tests use. They live in a module of their own, not in the test file: a worker
// that runs a replaced dependency imports this module to find the replacement.
import { depends } from "loopwise";

export const fakeDatabase = depends(function fakeDatabase() {
  return { list: () => ["pen", "ink"] };
});
