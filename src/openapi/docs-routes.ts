// /openapi.json and /docs (Swagger UI, served from the installed swagger-ui-dist package: no CDN).
// They run on the loop lane and stay outside the route table, so workers never need them.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { DocsOptions } from "../app/app.js";
import type { ErrorHandlers } from "../app/error-handlers.js";
import { bytes, html, json } from "../http/response.js";
import type { Route } from "../app/router.js";
import { defaultFormLimits } from "../params/form-limits.js";
import { openApiDocument } from "./openapi-document.js";
import { redocBundle, redocBundleBytes, redocContentPolicy, redocPage } from "./redoc-page.js";

const assets: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

function swaggerUiDir(): string {
  return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
}

function docsPage(title: string, docsUrl: string, openapiUrl: string): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)} - Swagger UI</title>
<link rel="stylesheet" href="${esc(docsUrl)}/swagger-ui.css">
<link rel="icon" type="image/png" href="${esc(docsUrl)}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${esc(docsUrl)}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(openapiUrl).replace(/</g, "\\u003c")},
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
});
</script>
</body>
</html>
`;
}

function builtin(errors: ErrorHandlers, method: "GET", path: string, name: string, handler: () => unknown): Route {
  return {
    id: -1,
    method,
    path,
    lane: "loop",
    streamsFromWorker: false,
    status: 200,
    name,
    handler,
    timeout: undefined,
    bulkhead: undefined,
    accepts: undefined,
    formLimits: defaultFormLimits,
    schemas: {},
    inputs: undefined,
    response: undefined,
    deps: {},
    effects: [],
    middleware: [],
    docs: { includeInSchema: false },
    plan: [],
    steps: [],
    errors,
  };
}

function redocRoutes(routes: Map<string, Route>, errors: ErrorHandlers, title: string, redocUrl: string, openapiUrl: string): void {
  const page = html(redocPage(title, redocUrl, openapiUrl), { headers: { "content-security-policy": redocContentPolicy } });
  routes.set(
    `GET ${redocUrl}`,
    builtin(errors, "GET", redocUrl, "redoc", () => page),
  );
  const bundlePath = `${redocUrl}/${redocBundle}`;
  routes.set(
    `GET ${bundlePath}`,
    builtin(errors, "GET", bundlePath, "redoc asset", () =>
      bytes(redocBundleBytes(), { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=3600" } }),
    ),
  );
}

/**
 * The documentation routes by "METHOD path", built from the route table once every route is
 * registered (at server start). They run on the loop lane and stay outside the table. Behind a
 * proxy that serves the app under `rootPath`, the page loads its assets and the document from
 * there, and the document's `servers` names it, so "Try it out" reaches the app too.
 */
export function builtinRoutes(table: readonly Route[], options: DocsOptions, errors: ErrorHandlers, rootPath = ""): Map<string, Route> {
  const routes = new Map<string, Route>();
  const { openapiUrl = "/openapi.json", docsUrl = "/docs", redocUrl = "/redoc" } = options;
  if (openapiUrl === null) return routes;
  if (redocUrl !== null) redocRoutes(routes, errors, options.title ?? "Loopwise", redocUrl, openapiUrl);
  let document: ReturnType<typeof json> | undefined;
  routes.set(
    `GET ${openapiUrl}`,
    builtin(errors, "GET", openapiUrl, "openapi", () => (document ??= json(openApiDocument(table, { ...options, rootPath })))),
  );
  if (docsUrl === null) return routes;
  const page = html(docsPage(options.title ?? "Loopwise", rootPath + docsUrl, rootPath + openapiUrl));
  routes.set(
    `GET ${docsUrl}`,
    builtin(errors, "GET", docsUrl, "docs", () => page),
  );
  for (const [file, type] of Object.entries(assets)) {
    let content: Uint8Array | undefined;
    routes.set(
      `GET ${docsUrl}/${file}`,
      builtin(errors, "GET", `${docsUrl}/${file}`, "docs asset", () => {
        content ??= readFileSync(join(swaggerUiDir(), file));
        return bytes(content, { headers: { "content-type": type, "cache-control": "public, max-age=3600" } });
      }),
    );
  }
  return routes;
}
