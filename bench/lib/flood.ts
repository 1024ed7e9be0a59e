// Sends COUNT requests to URL at once, each on its own connection, and prints how they were
// answered as JSON: a count per outcome, the seconds until the last one settled, and each
// answer's status and latency. A request with no answer after PATIENCE_MS (default 60 s) is given
// up as "error: timeout", so a run is bounded in time whatever the server does. It runs in its
// own process so that handling thousands of sockets does not stall the bench's latency probe.
//   node --import tsx bench/lib/flood.ts URL COUNT [PATIENCE_MS]
import { Agent, request } from "node:http";
import type { FloodResult } from "./flood-from.ts";

const [url, countArg, patienceArg] = process.argv.slice(2);
const count = Number(countArg);
const patienceMs = Number(patienceArg ?? 60_000);
const agent = new Agent({ keepAlive: false, maxSockets: count });
const outcomes: Record<string, number> = {};
const answers: FloodResult["answers"] = [];
const started = performance.now();
await Promise.all(
  Array.from({ length: count }, () =>
    new Promise<string>((resolve) => {
      const req = request(url!, { agent, timeout: patienceMs }, (res) => {
        res.resume();
        res.on("end", () => {
          answers.push([res.statusCode!, performance.now() - started]);
          resolve(String(res.statusCode));
        });
      });
      // The socket's idle timeout: a queued request sees no byte until it is answered.
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (error) => resolve(`error: ${error.message}`));
      req.end();
    }).then((outcome) => (outcomes[outcome] = (outcomes[outcome] ?? 0) + 1)),
  ),
);
const result: FloodResult = { outcomes, seconds: (performance.now() - started) / 1000, answers };
process.stdout.write(JSON.stringify(result));
