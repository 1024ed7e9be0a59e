// The Piscina worker: the same trivial and burning work the Loopwise app runs on its worker lane.
import { burnCpu } from "./burn.ts";

export default function task(name: "trivial" | "burn"): unknown {
  return name === "burn" ? { result: burnCpu() } : { message: "trivial" };
}
