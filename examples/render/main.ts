// The queue lane's acceptance app: rendering is heavy, so it runs on `loopwise worker` processes,
// on any machine that reaches the Redis, while the server only awaits the answers.
//   redis-server --port 6379 --save ""
//   npx loopwise run examples/render/main.ts:app --redis redis://127.0.0.1:6379
//   npx loopwise worker examples/render/main.ts:app --redis redis://127.0.0.1:6379   (as many as you like)
//   curl 'localhost:8000/render?n=200'
import { threadId } from "node:worker_threads";
import { App, HttpError, json } from "loopwise";
import { durableJob } from "loopwise/queue";
import { z } from "zod";

export const app = new App({ title: "render" });

/** A Mandelbrot picture of n×n cells, drawn as text: CPU work that grows with n². */
function mandelbrot(n: number): string[] {
  const rows: string[] = [];
  for (let y = 0; y < n; y++) {
    let row = "";
    for (let x = 0; x < n; x++) {
      let [re, im, i] = [0, 0, 0];
      const [cre, cim] = [(x / n) * 3 - 2, (y / n) * 3 - 1.5];
      for (; i < 200 && re * re + im * im < 4; i++) [re, im] = [re * re - im * im + cre, 2 * re * im + cim];
      row += i === 200 ? "#" : " ";
    }
    rows.push(row);
  }
  return rows;
}

const size = z.object({ n: z.coerce.number().int().min(1).max(2000).default(100) });

// A plain handler on the queue lane: it runs on a worker process's pool, never in the server.
app.get("/render", { lane: "queue", query: size, timeout: 30_000 }, (req) => {
  const started = performance.now();
  const rows = mandelbrot(req.query.n);
  const filled = rows.reduce((sum, row) => sum + row.replaceAll(" ", "").length, 0);
  return { n: req.query.n, filled, ms: Math.round(performance.now() - started), pid: process.pid, thread: threadId };
});

// Heavy work nobody waits for: a durable job, queued in Redis, run once by some worker process.
export const poster = durableJob(
  "poster",
  (input: { n: number }) => ({ filled: mandelbrot(input.n).join("").replaceAll(" ", "").length, pid: process.pid }),
  {
    attempts: 3,
    backoff: { type: "exponential", delay: 500 },
  },
);

app.post("/posters", { body: size }, async (req) => json({ job: await poster.enqueue({ n: req.body.n }) }, { status: 202 }));

app.get("/posters/:id", async (req) => {
  const state = await poster.state(req.params.id);
  if (!state) throw new HttpError(404, "No such job");
  return state;
});
