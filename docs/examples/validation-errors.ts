// docs/validation-errors.md: the default 422.
import { z } from "zod";
import { App } from "loopwise";

export const app = new App();

const Signup = z.object({ email: z.email(), age: z.number().int().min(18) });

app.post("/signup", { body: Signup }, async (req) => ({ welcome: req.body.email }));
