// Fastify alone: the burn runs on its event loop, as an Express or Fastify user would write it.
import Fastify from "fastify";
import { burnCpu } from "./burn.ts";
import { order, orderJsonSchema } from "./order.ts";
import { announce, serverStats } from "./stats.ts";

const app = Fastify({ logger: false, keepAliveTimeout: 60_000 });
app.get("/hello", async () => ({ message: "hello" }));
app.get("/trivial", async () => ({ message: "trivial" }));
app.get("/burn", async () => ({ result: burnCpu() }));
app.get("/order", { schema: { response: { 200: orderJsonSchema } } }, async () => order);
app.get("/stats", async (req) => serverStats("reset" in (req.query as object)));
announce(await app.listen({ port: 0, host: "127.0.0.1" }));
