// /redoc: ReDoc, served from the installed redoc package's standalone bundle (no CDN, no fonts
// from elsewhere), reading the same /openapi.json as /docs. redoc is an optional peer dependency
// (it brings a browser app's stack: React, mobx, styled-components, core-js): without it, /redoc
// answers with a page that says how to install it.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The standalone bundle's file name, served under the ReDoc page's own path. */
export const redocBundle = "redoc.standalone.js";

/** What installs it, in the app's project. */
export const redocInstall = "npm i redoc";

/** The bundle's path in the installed redoc package, or undefined when redoc is not installed. */
function redocBundlePath(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve("redoc/package.json")), "bundles", redocBundle);
  } catch {
    return undefined;
  }
}

/** The bundle's bytes, read on first use (it is about 1 MB); undefined while redoc is not installed. */
let bundle: Uint8Array | undefined;
export function redocBundleBytes(): Uint8Array | undefined {
  if (bundle) return bundle;
  const path = redocBundlePath();
  if (path !== undefined) bundle = readFileSync(path);
  return bundle;
}

/**
 * ReDoc's sidebar shows the Redocly logo from their CDN, whatever its options say: the page's
 * policy keeps images, fonts and fetches on this server, so the page fetches nothing from
 * elsewhere (the logo is left out, as it is when offline).
 */
export const redocContentPolicy = "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'";

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function redocPage(title: string, redocUrl: string, openapiUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} - ReDoc</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<redoc spec-url="${esc(openapiUrl)}"></redoc>
<script src="${esc(redocUrl)}/${redocBundle}"></script>
</body>
</html>
`;
}

/** What /redoc shows while redoc is not installed: how to get it, and where the same document is meanwhile. */
export function redocMissingPage(title: string, docsUrl: string | null, openapiUrl: string): string {
  const elsewhere = docsUrl === null ? "" : ` Meanwhile, the same document is in Swagger UI at <a href="${esc(docsUrl)}">${esc(docsUrl)}</a>.`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)} - ReDoc is not installed</title>
</head>
<body>
<h1>ReDoc is not installed</h1>
<p>This page needs the optional <code>redoc</code> package. Install it in the app's project, then restart the server:</p>
<pre><code>${redocInstall}</code></pre>
<p>The OpenAPI document is at <a href="${esc(openapiUrl)}">${esc(openapiUrl)}</a>.${elsewhere}</p>
</body>
</html>
`;
}
