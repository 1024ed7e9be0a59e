// `app.listen()`: serving an app from its own module, like `uvicorn.run(app)`. The server floor
// adds it to App, so the app floor never imports the server; the server itself is loaded only
// when listen() is called, so a worker importing the package does not load it.
import { App } from "../app/app.js";
import { workerSlot } from "../pool/identity.js";
import type { ServeOptions } from "./config.js";
import type { RunningServer } from "./serve.js";

declare module "../app/app.js" {
  interface App {
    /**
     * Serves the app, like `uvicorn.run(app)`. Does nothing inside a pool worker (which imports
     * this module too) or when the `loopwise` CLI is serving the app.
     */
    listen(options?: ServeOptions): Promise<RunningServer | undefined>;
  }
}

const cliKey = Symbol.for("loopwise.cli-owns-server");

/** Marks the process as served by the CLI, so a module's own `app.listen()` stands aside. */
export function markCliOwnsServer(): void {
  (globalThis as Record<symbol, unknown>)[cliKey] = true;
}

App.prototype.listen = async function listen(this: App, options: ServeOptions = {}): Promise<RunningServer | undefined> {
  if (workerSlot() !== undefined || (globalThis as Record<symbol, unknown>)[cliKey]) return undefined;
  const { serve } = await import("./serve.js");
  return serve(this, { handleSignals: true, ...options });
};
