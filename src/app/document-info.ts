// The document's own description: `info` (title, version, contact, license, terms of service),
// `servers` and the tags' descriptions, as an app gives them (FastAPI's `FastAPI(...)` arguments).

export interface Contact {
  name?: string;
  url?: string;
  email?: string;
}

/** A license by name, with its SPDX `identifier` or a `url` (OpenAPI allows one of the two). */
export interface License {
  name: string;
  identifier?: string;
  url?: string;
}

export interface Server {
  url: string;
  description?: string;
}

/** A tag's entry in the document (FastAPI's `openapi_tags`): what /docs shows above its routes. */
export interface TagInfo {
  name: string;
  description?: string;
  externalDocs?: { url: string; description?: string };
}

/** What an app says about itself in /openapi.json. */
export interface DocumentMetadata {
  title?: string;
  version?: string;
  /** A short summary of the API (OpenAPI 3.1). */
  summary?: string;
  /** Markdown, shown at the top of /docs. */
  description?: string;
  termsOfService?: string;
  contact?: Contact;
  license?: License;
  /** Where the API is served; the `rootPath` the server runs under goes first. */
  servers?: Server[];
  /** Descriptions of the tags routes use, in the order /docs lists them. */
  tags?: TagInfo[];
}

export interface DocumentInfo extends DocumentMetadata {
  /** The prefix a proxy serves the app under: the document's first server, as FastAPI lists it. */
  rootPath?: string;
}

/** The `info`, `servers` and `tags` of the document. */
export function documentInfo(options: DocumentInfo): Record<string, unknown> {
  const { title = "Loopwise", version = "0.1.0", summary, description, termsOfService, contact, license } = options;
  const info = dropUndefined({ title, summary, description, termsOfService, contact, license, version });
  const servers = [...(options.rootPath ? [{ url: options.rootPath }] : []), ...(options.servers ?? [])];
  return dropUndefined({ info, servers: servers.length > 0 ? servers : undefined, tags: options.tags?.length ? options.tags : undefined });
}

/** Refuses metadata OpenAPI would call invalid, when the app is made rather than when /docs is first opened. */
export function checkDocumentMetadata(options: DocumentMetadata): void {
  const text = (value: unknown, what: string) => {
    if (value !== undefined && typeof value !== "string") throw new TypeError(`${what} must be a string, got ${JSON.stringify(value)}`);
  };
  for (const key of ["title", "version", "summary", "description", "termsOfService"] as const) text(options[key], key);
  if (options.contact !== undefined) {
    if (options.contact === null || typeof options.contact !== "object") throw new TypeError("contact must be an object: { name, url, email }");
    for (const key of ["name", "url", "email"] as const) text(options.contact[key], `contact.${key}`);
  }
  if (options.license !== undefined) {
    if (typeof options.license?.name !== "string" || options.license.name === "")
      throw new TypeError('license needs a name: { name: "MIT", identifier: "MIT" }');
    if (options.license.identifier !== undefined && options.license.url !== undefined) {
      throw new TypeError("license takes an identifier or a url, not both (OpenAPI 3.1)");
    }
  }
  if (options.servers !== undefined) {
    if (!Array.isArray(options.servers)) throw new TypeError("servers must be a list of { url, description }");
    options.servers.forEach((server, i) => {
      if (typeof server?.url !== "string" || server.url === "") throw new TypeError(`servers[${i}] needs a url`);
    });
  }
  if (options.tags !== undefined) {
    if (!Array.isArray(options.tags)) throw new TypeError("tags must be a list of { name, description }");
    const seen = new Set<string>();
    options.tags.forEach((tag, i) => {
      if (typeof tag?.name !== "string" || tag.name === "") throw new TypeError(`tags[${i}] needs a name`);
      if (seen.has(tag.name)) throw new TypeError(`tag "${tag.name}" is described twice`);
      seen.add(tag.name);
      text(tag.description, `tags[${i}].description`);
    });
  }
}

function dropUndefined(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}
