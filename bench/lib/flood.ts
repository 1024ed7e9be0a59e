// Sends COUNT requests to URL at once, each on its own connection, and prints how they were
// answered as JSON. It runs in its own process so that handling thousands of sockets does not
// stall the bench's latency probe.
import { Agent, request } from "node:http";

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
const agent = new Agent({ keepAlive: false, maxSockets: count });
const outcomes: Record<string, number> = {};
const started = performance.now();
await Promise.all(
  Array.from({ length: count }, () =>
    new Promise<string>((resolve) => {
      const req = request(url!, { agent, timeout: 60_000 }, (res) => {
        res.resume();
        res.on("end", () => resolve(String(res.statusCode)));
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (error) => resolve(`error: ${error.message}`));
      req.end();
    }).then((outcome) => (outcomes[outcome] = (outcomes[outcome] ?? 0) + 1)),
  ),
);
process.stdout.write(JSON.stringify({ outcomes, seconds: (performance.now() - started) / 1000 }));
