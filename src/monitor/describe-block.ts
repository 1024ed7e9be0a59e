// The words of a loop-block warning: what blocked, for how long, who waited, and the fix.
import type { LoopBlock, MonitoredRoute } from "./loop-monitor.js";

export function describeBlock(block: LoopBlock, routes: readonly MonitoredRoute[]): string {
  const ms = Math.round(block.durationMs);
  const waited = `(${block.waited} request${block.waited === 1 ? "" : "s"} waited)`;
  const route = block.routeId === undefined ? undefined : routes[block.routeId];
  const at = block.native ? inNativeCode(block.where) : block.where ? ` at ${block.where}` : "";
  switch (block.culprit) {
    case "request":
      if (!route) return `A request's code blocked the event loop for ${ms} ms${at} ${waited}.`;
      return `${route.label} blocked the event loop for ${ms} ms${at} ${waited}. ${advice(route)}`;
    case "outside":
      return (
        `The event loop was blocked for ${ms} ms by code outside any request (a timer, an interval, a startup task)${at} ${waited}. ` +
        "Move the blocking part to the worker pool with offload()."
      );
    case "many":
      return (
        `The event loop was busy for ${ms} ms running many callbacks in a row, no single one of them long ${waited}. ` +
        "The server is taking more work per moment than one thread can do: a burst of connections, or heavy work on the loop lane."
      );
    case "unknown":
      // No request's code was running, and the watchdog's pause, which lands at the next
      // JavaScript statement, found none before the stall ended: the time went outside
      // JavaScript. (Under a debugger it does not look at all.)
      return (
        `The event loop stalled for ${ms} ms with no request running and no JavaScript to blame ${waited}: native code ` +
        "outside any request, a long garbage collection, a machine too busy to run this process, or a debugger holding it."
      );
  }
}

/** The pause that shows the stack lands only after the native call returns, so near it, not at it. */
function inNativeCode(where: string | undefined): string {
  return ` in native code (such as JSON.parse or a synchronous crypto call)${where ? ` near ${where}` : ""}`;
}

function advice(route: MonitoredRoute): string {
  if (route.advice) return route.advice;
  if (route.lane === "worker") {
    return "Its handler runs on the worker pool, so the time went to its work on the loop: reading or parsing a large body.";
  }
  if (route.declaredAsync) {
    return "It is declared async; make it a plain function to run it on the worker pool, or move the blocking call into offload().";
  }
  return 'It runs on the loop because of its lane: "loop" option; remove that option to run it on the worker pool.';
}
