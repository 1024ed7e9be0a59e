/** Where a handler or dependency runs: the main thread's event loop, or a pool worker. */
export type Lane = "loop" | "worker";

const AsyncFunction = (async () => {}).constructor;
const AsyncGeneratorFunction = async function* () {}.constructor;

/**
 * The lane rule, decided once at registration: native `async` functions run on the loop,
 * everything else on the pool. A function down-levelled below ES2017 looks plain and so
 * goes to the pool; an explicit `lane` option overrides the rule.
 */
export function laneOf(fn: Function, override?: Lane): Lane {
  if (override !== undefined) {
    if (override !== "loop" && override !== "worker") {
      throw new TypeError(`lane must be "loop" or "worker", got ${JSON.stringify(override)}`);
    }
    return override;
  }
  return fn instanceof AsyncFunction || fn instanceof AsyncGeneratorFunction ? "loop" : "worker";
}
