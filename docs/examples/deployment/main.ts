// docs/deployment.md: who is asking, and links that work, behind a proxy.
import { App } from "loopwise";

export const app = new App({ title: "Behind a proxy" });

// With --proxy-headers, the client a trusted proxy names, and the scheme it was reached by.
app.get("/whoami", async (req) => ({ client: req.client, scheme: req.scheme }));

// A link the client can follow: its scheme and host, and the prefix the proxy serves the app under.
app.get("/items/:id", async (req) => ({
  id: req.params.id,
  self: `${req.scheme}://${req.headers.host}${req.rootPath}/items/${req.params.id}`,
}));
