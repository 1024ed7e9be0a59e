// The README's shared-state example: what a module global means with worker threads, and the
// shared primitives that every lane sees. Tested in test/examples.test.ts.
import { App, SharedCounter, SharedTable } from "loopwise";

export const app = new App();
const hits = new SharedCounter(); // create at the top level, before the server starts
const votes = new SharedTable(3); // 3 atomic integer cells
let perThread = 0; // one copy per worker: no race, no sharing

app.post("/hit", () => ({ hits: hits.increment(), perThread: ++perThread })); // worker lane
app.post("/vote/:n", async (req) => ({ votes: votes.add(Number(req.params.n)) })); // loop lane
app.get("/stats", async () => ({ hits: hits.value, votes: [0, 1, 2].map((i) => votes.get(i)) }));
