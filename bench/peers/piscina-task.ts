// The Piscina worker: the same trivial and burning work the Loopwise app runs on its worker lane.
import { burnCpu } from "./burn.ts";

export default function task(name: "trivial" | "burn" | "burn-300ms"): unknown {
  if (name === "burn") return { result: burnCpu() };
  if (name === "burn-300ms") return { result: burnCpu(3) };
  return { message: "trivial" };
}
