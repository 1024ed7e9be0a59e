// /openapi.json and /docs (Swagger UI, whose files the package carries in dist/swagger-ui/: no CDN).
// They run on the loop lane and stay outside the route table, so workers never need them.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { App, DocsOptions } from "../app/app.js";
import type { ErrorHandlers } from "../app/error-handlers.js";
import { bytes, html, json, text } from "../http/response.js";
import { frameworkRoute, type Route } from "../app/router.js";
import { openApiDocument } from "./openapi-document.js";
import { redocBundle, redocBundleBytes, redocContentPolicy, redocInstall, redocMissingPage, redocPage } from "./redoc-page.js";

const assets: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

/**
 * Where the build copied Swagger UI's files (scripts/copy-swagger-ui.mjs): found through the
 * package's own name, so the same from its sources (tests) as from dist/.
 */
function swaggerUiDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve("loopwise/package.json")), "dist", "swagger-ui");
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

function builtin(errors: ErrorHandlers, path: string, name: string, handler: () => unknown): Route {
  return { ...frameworkRoute(path, name, handler), id: -1, plan: [], steps: [], errors };
}

/**
 * ReDoc's page at `redocUrl`; its links start with `rootPath`, as the client sees the app. While
 * the optional redoc package is not installed, the page says how to install it (501).
 */
function redocRoutes(
  routes: Map<string, Route>,
  errors: ErrorHandlers,
  title: string,
  urls: { redoc: string; docs: string | null; openapi: string },
  rootPath: string,
): void {
  const page = html(redocPage(title, rootPath + urls.redoc, rootPath + urls.openapi), { headers: { "content-security-policy": redocContentPolicy } });
  const missing = () => html(redocMissingPage(title, urls.docs === null ? null : rootPath + urls.docs, rootPath + urls.openapi), { status: 501 });
  routes.set(
    `GET ${urls.redoc}`,
    builtin(errors, urls.redoc, "redoc", () => (redocBundleBytes() === undefined ? missing() : page)),
  );
  const bundlePath = `${urls.redoc}/${redocBundle}`;
  routes.set(
    `GET ${bundlePath}`,
    builtin(errors, bundlePath, "redoc asset", () => {
      const bundle = redocBundleBytes();
      if (bundle === undefined) return text(`ReDoc is not installed: ${redocInstall}`, { status: 501 });
      return bytes(bundle, { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=3600" } });
    }),
  );
}

/**
 * The documentation routes by "METHOD path", built from the route table once every route is
 * registered (at server start). They run on the loop lane and stay outside the table. Behind a
 * proxy that serves the app under `rootPath`, the page loads its assets and the document from
 * there, and the document's `servers` names it, so "Try it out" reaches the app too. An app
 * mounted under `mountedAt` has its docs served there, and its document's paths are there too.
 */
export function builtinRoutes(
  table: readonly Route[],
  options: DocsOptions,
  errors: ErrorHandlers,
  rootPath = "",
  mountedAt = "",
): Map<string, Route> {
  const routes = new Map<string, Route>();
  const { openapiUrl: ownOpenapiUrl = "/openapi.json", docsUrl: ownDocsUrl = "/docs", redocUrl = "/redoc" } = options;
  if (ownOpenapiUrl === null) return routes;
  const openapiUrl = mountedAt + ownOpenapiUrl;
  const docsUrl = ownDocsUrl === null ? null : mountedAt + ownDocsUrl;
  if (redocUrl !== null)
    redocRoutes(routes, errors, options.title ?? "Loopwise", { redoc: mountedAt + redocUrl, docs: docsUrl, openapi: openapiUrl }, rootPath);
  let document: ReturnType<typeof json> | undefined;
  routes.set(
    `GET ${openapiUrl}`,
    builtin(errors, openapiUrl, "openapi", () => (document ??= json(openApiDocument(table, { ...options, rootPath: rootPath + mountedAt })))),
  );
  if (docsUrl === null) return routes;
  const page = html(docsPage(options.title ?? "Loopwise", rootPath + docsUrl, rootPath + openapiUrl));
  routes.set(
    `GET ${docsUrl}`,
    builtin(errors, docsUrl, "docs", () => page),
  );
  for (const [file, type] of Object.entries(assets)) {
    let content: Uint8Array | undefined;
    routes.set(
      `GET ${docsUrl}/${file}`,
      builtin(errors, `${docsUrl}/${file}`, "docs asset", () => {
        content ??= readFileSync(join(swaggerUiDir(), file));
        return bytes(content, { headers: { "content-type": type, "cache-control": "public, max-age=3600" } });
      }),
    );
  }
  return routes;
}

/** The docs routes of `app` and of every app mounted in it, each under its prefix; on a clash, the outer app's. */
export function appBuiltinRoutes(app: App, rootPath = "", mountedAt = ""): Map<string, Route> {
  const routes = builtinRoutes(app.routes, app.docsOptions, app.errors, rootPath, mountedAt);
  for (const mount of app.mounts) {
    for (const [key, route] of appBuiltinRoutes(mount.app, rootPath, mountedAt + mount.prefix)) if (!routes.has(key)) routes.set(key, route);
  }
  return routes;
}
