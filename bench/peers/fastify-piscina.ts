// Fastify with blocking work sent to a Piscina pool: the usual answer in Node today.
// PISCINA_MAX_THREADS unset keeps Piscina's default pool size.
import Fastify from "fastify";
import { Piscina } from "piscina";
import { announce, serverStats } from "./stats.ts";

const maxThreads = process.env.PISCINA_MAX_THREADS ? Number(process.env.PISCINA_MAX_THREADS) : undefined;
const pool = new Piscina({
  filename: new URL("./piscina-task.ts", import.meta.url).href,
  ...(maxThreads ? { minThreads: maxThreads, maxThreads } : {}),
});
const app = Fastify({ logger: false, keepAliveTimeout: 60_000 });
app.get("/hello", async () => ({ message: "hello" }));
app.get("/trivial", () => pool.run("trivial"));
app.get("/burn", () => pool.run("burn"));
app.get("/burn-300ms", () => pool.run("burn-300ms"));
app.get("/stats", async (req) => serverStats("reset" in (req.query as object)));
announce(await app.listen({ port: 0, host: "127.0.0.1" }));
