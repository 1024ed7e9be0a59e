// docs/validation-errors.md: the same route, answering invalid input the app's own way.
import { z } from "zod";
import { App, RequestValidationError, json } from "loopwise";

export const app = new App();

const Signup = z.object({ email: z.email(), age: z.number().int().min(18) });

app.post("/signup", { body: Signup }, async (req) => ({ welcome: req.body.email }));

app.exceptionHandler(RequestValidationError, (error) =>
  json({ errors: error.issues.map((issue) => `${issue.loc.join(".")}: ${issue.msg}`) }, { status: 400 }),
);
