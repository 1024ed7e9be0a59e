import { z } from "zod";
import { App, settings } from "loopwise";

// Read once on the main thread, from the environment and a .env file; the same in every worker.
export const config = settings(
  z.object({
    DATABASE_URL: z.url(),
    ADMIN_EMAIL: z.email(),
    ITEMS_PER_PAGE: z.number().int().min(1).max(100).default(20),
    DEBUG: z.boolean().default(false),
  }),
);

export const app = new App();

// A plain handler: it runs on a worker, which sees the same values.
app.get("/info", () => ({ admin: config.ADMIN_EMAIL, perPage: config.ITEMS_PER_PAGE, debug: config.DEBUG }));
