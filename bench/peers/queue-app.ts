// The queue scenario's app: the same trivial and CPU routes on the worker lane and on the queue
// lane, so the queue's added cost is the difference between two routes of one server.
import { App } from "loopwise";
import { burnCpu } from "./burn.ts";
import { serverStats } from "./stats.ts";

export const app = new App();
app.get("/trivial", () => ({ message: "trivial" }));
app.get("/queue/trivial", { lane: "queue" }, () => ({ message: "trivial" }));
// About 5 ms of CPU (BURN_ITERATIONS is calibrated to 100 ms): work a worker process is for.
app.get("/queue/burn", { lane: "queue" }, () => ({ result: burnCpu(0.05) }));
app.get("/stats", async (req) => serverStats("reset" in req.query));
