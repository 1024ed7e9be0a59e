// The OpenAPI 3.1 document, built from the same route table and schemas that validate requests,
// so the docs cannot drift from what the server checks.
import { headerName } from "../params/input-plan.js";
import { statusText } from "../http/status-text.js";
import type { StandardSchemaV1 } from "../params/standard-schema.js";
import type { Route } from "../app/router.js";
import { SchemaComponents } from "./schema-components.js";
import { dependencyBody, securityRequirements, securitySchemes } from "./security-docs.js";
import { documentInfo, type DocumentInfo } from "../app/document-info.js";

export type { DocumentInfo };

type JsonObject = Record<string, unknown>;

const validationSchemas: JsonObject = {
  ValidationError: {
    title: "ValidationError",
    type: "object",
    required: ["loc", "msg", "type"],
    properties: {
      loc: { title: "Location", type: "array", items: { anyOf: [{ type: "string" }, { type: "integer" }] } },
      msg: { title: "Message", type: "string" },
      type: { title: "Error Type", type: "string" },
      input: { title: "Input" },
    },
  },
  HTTPValidationError: {
    title: "HTTPValidationError",
    type: "object",
    properties: { detail: { title: "Detail", type: "array", items: { $ref: "#/components/schemas/ValidationError" } } },
  },
};

/** `/items/:id(^\\d+)/*` → `/items/{id}/{wildcard}`: OpenAPI's path templates. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, "{$1}").replace(/\*$/, "{wildcard}");
}

/** `getItem` / `get_item` → "Get Item", as FastAPI titles a function name. */
function titleOf(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[_\s]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(" ");
}

function parametersFrom(
  components: SchemaComponents,
  location: "path" | "query" | "header" | "cookie",
  schema: StandardSchemaV1 | undefined,
  fallbackNames: string[] = [],
): JsonObject[] {
  const json = schema ? components.resolve(components.use(schema, "input")) : undefined;
  const properties = (json?.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((json?.required ?? []) as string[]);
  const names = schema ? Object.keys(properties) : fallbackNames;
  return names.map((key) => ({
    name: location === "header" ? headerName(key) : key,
    in: location,
    required: location === "path" || required.has(key),
    schema: properties[key] ?? { type: "string" },
  }));
}

const multipart = "multipart/form-data";

/** A file field in JSON Schema: `z.file()` gives `{ type: "string", format: "binary" }`, alone or in a list. */
function isFileField(field: JsonObject | undefined): boolean {
  if (!field) return false;
  if (field.type === "array") return isFileField(field.items as JsonObject | undefined);
  if (field.format === "binary") return true;
  const options = (field.anyOf ?? field.oneOf) as JsonObject[] | undefined;
  return options?.some(isFileField) ?? false;
}

/**
 * The media types a declared body is documented under: those the route `accepts`, or else a
 * multipart form when it has a file field (only a form carries files), JSON otherwise.
 */
function bodyMediaTypes(accepts: string[] | undefined, schema: JsonObject): string[] {
  if (accepts && accepts.length > 0) return accepts;
  const fields = Object.values((schema.properties ?? {}) as Record<string, JsonObject>);
  return fields.some(isFileField) ? [multipart] : ["application/json"];
}

function operation(route: Route, operationId: string, components: SchemaComponents): JsonObject {
  const { docs, schemas } = route;
  const pathNames = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
  if (route.path.endsWith("*")) pathNames.push("wildcard");
  const parameters = [
    ...parametersFrom(components, "path", schemas.params, pathNames),
    ...parametersFrom(components, "query", schemas.query),
    ...parametersFrom(components, "header", schemas.headers),
    ...parametersFrom(components, "cookie", schemas.cookies),
  ];
  const op: JsonObject = {};
  if (docs.tags && docs.tags.length > 0) op.tags = [...new Set(docs.tags)];
  op.summary = docs.summary ?? (titleOf(route.name) || `${route.method} ${route.path}`);
  if (docs.description) op.description = docs.description;
  op.operationId = operationId;
  if (parameters.length > 0) op.parameters = parameters;
  if (schemas.body) {
    const schema = components.use(schemas.body, "input") ?? {};
    const content: JsonObject = {};
    for (const type of bodyMediaTypes(route.accepts, components.resolve(schema) ?? schema)) content[type] = { schema };
    op.requestBody = { required: true, content };
  } else {
    const formBody = dependencyBody(route);
    if (formBody) op.requestBody = formBody;
  }
  const success: JsonObject = { description: route.status === 201 ? "Created" : "Successful Response" };
  if (route.stream) {
    // OpenAPI 3.1 has no item schema for a sequence (3.2's itemSchema): the stream is described as the list of its items.
    const items = components.use(route.stream.item, "output") ?? {};
    success.description = route.stream.format === "sse" ? "A stream of events, each one's data an item" : "A stream of JSON Lines, each line an item";
    success.content = { [route.stream.format === "sse" ? "text/event-stream" : "application/jsonl"]: { schema: { type: "array", items } } };
  } else if (route.status !== 204 && route.status !== 304) {
    success.content = { "application/json": { schema: (route.response && components.use(route.response, "output")) || {} } };
  }
  const responses: JsonObject = { [String(route.status)]: success };
  for (const [status, schema] of Object.entries(route.responses ?? {})) {
    const declared: JsonObject = { description: statusText(Number(status)) ?? `Status ${status}` };
    if (status !== "204" && status !== "304") declared.content = { "application/json": { schema: components.use(schema, "output") ?? {} } };
    responses[status] = declared;
  }
  if (route.inputs && !responses["422"]) {
    responses["422"] = {
      description: "Validation Error",
      content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPValidationError" } } },
    };
  }
  op.responses = responses;
  if (docs.deprecated) op.deprecated = true;
  const security = securityRequirements(route);
  if (security) op.security = security;
  return op;
}

/** The OpenAPI 3.1 document of the routes; routes with `includeInSchema: false` are left out. */
export function openApiDocument(routes: readonly Route[], info: DocumentInfo = {}): JsonObject {
  const paths: Record<string, JsonObject> = {};
  const usedIds = new Set<string>();
  const components = new SchemaComponents();
  let validates = false;
  for (const route of routes) {
    if (route.docs.includeInSchema === false) continue;
    const path = openApiPath(route.path);
    // FastAPI's shape: function name, path and method in snake case (`list_items_items_get`).
    const name = (route.name || "route").replace(/([a-z0-9])([A-Z])/g, "$1_$2");
    let id = route.docs.operationId ?? `${name}${route.path}_${route.method}`.replace(/[^A-Za-z0-9]/g, "_").toLowerCase();
    for (let n = 2; usedIds.has(id); n++) id = `${id}_${n}`;
    usedIds.add(id);
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route, id, components);
    validates ||= route.inputs !== undefined;
  }
  const doc: JsonObject = { openapi: "3.1.0", ...documentInfo(info), paths };
  const schemas = components.finish(doc, validates ? validationSchemas : {});
  if (Object.keys(schemas).length > 0) doc.components = { schemas };
  const schemes = securitySchemes(routes);
  if (schemes) doc.components = { ...(doc.components as JsonObject | undefined), securitySchemes: schemes };
  return doc;
}
