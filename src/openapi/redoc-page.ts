// /redoc: ReDoc, served from the installed redoc package's standalone bundle (no CDN, no fonts
// from elsewhere), reading the same /openapi.json as /docs.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The standalone bundle's file name, served under the ReDoc page's own path. */
export const redocBundle = "redoc.standalone.js";

export function redocBundlePath(): string {
  return join(dirname(createRequire(import.meta.url).resolve("redoc/package.json")), "bundles", redocBundle);
}

/** The bundle's bytes, read on first use (it is about 1 MB). */
let bundle: Uint8Array | undefined;
export function redocBundleBytes(): Uint8Array {
  bundle ??= readFileSync(redocBundlePath());
  return bundle;
}

/**
 * ReDoc's sidebar shows the Redocly logo from their CDN, whatever its options say: the page's
 * policy keeps images, fonts and fetches on this server, so the page fetches nothing from
 * elsewhere (the logo is left out, as it is when offline).
 */
export const redocContentPolicy = "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'";

export function redocPage(title: string, redocUrl: string, openapiUrl: string): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
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
