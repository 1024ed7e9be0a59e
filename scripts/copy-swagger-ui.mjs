// Copies the Swagger UI files /docs serves into dist/swagger-ui/, so the package carries them
// itself. swagger-ui-dist as a dependency would bring 12 MB (its source maps and three more
// builds) and @scarf/scarf, an install-time analytics script, into every app's node_modules;
// /docs needs three of its files. The licence and notice go with them.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const from = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const to = join(root, "dist", "swagger-ui");
// The files docs-routes.ts serves, and the terms they are distributed under.
const files = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE"];

rmSync(to, { recursive: true, force: true });
mkdirSync(to, { recursive: true });
for (const file of files) copyFileSync(join(from, file), join(to, file));
