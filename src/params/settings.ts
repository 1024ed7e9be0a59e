// Typed settings from the environment, as pydantic-settings: a schema's fields read from
// process.env and a `.env` file, coerced from strings as query parameters are, validated at
// once, every problem listed in one error. The main thread reads the file and puts what it
// found into process.env (never over a variable already set), so every worker thread, whose
// environment is a copy of it, gets the same values without reading the file again.
import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { workerSlot } from "../pool/identity.js";
import { coercerFor } from "./coerce.js";
import { jsonSchemaOf, type StandardSchemaV1 } from "./standard-schema.js";

export interface SettingsOptions {
  /** The `.env` file to read (default ".env" in the working directory, skipped when absent); null reads none. */
  envFile?: string | null;
  /** Read each field from this prefix + its name: `APP_` reads `port` from `APP_PORT`. */
  prefix?: string;
  /** The environment to read instead of process.env (tests). */
  env?: Record<string, string | undefined>;
}

/** One variable missing or invalid. */
export interface SettingsProblem {
  variable: string;
  message: string;
}

/** The settings do not validate: every problem at once, so one restart fixes them all. */
export class SettingsError extends Error {
  override readonly name = "SettingsError";
  constructor(readonly problems: SettingsProblem[]) {
    const lines = problems.map((p) => `  ${p.variable}: ${p.message}`);
    super(`${problems.length} setting${problems.length === 1 ? "" : "s"} missing or invalid:\n${lines.join("\n")}`);
  }
}

/**
 * Reads and validates the app's settings; their values are never printed (they may be secrets).
 *
 *     export const config = settings(z.object({
 *       DATABASE_URL: z.url(),
 *       PORT: z.number().int().default(8000),
 *       DEBUG: z.boolean().default(false),
 *     }));
 */
export function settings<S extends StandardSchemaV1>(schema: S, options: SettingsOptions = {}): Readonly<StandardSchemaV1.InferOutput<S>> {
  const { envFile = ".env", prefix = "", env } = options;
  if (typeof prefix !== "string") throw new TypeError(`settings() prefix must be a string, got ${JSON.stringify(prefix)}`);
  // A worker's environment already holds what the main thread read from the file.
  const fromFile = envFile === null || workerSlot() !== undefined ? {} : readEnvFile(envFile, options.envFile !== undefined);
  if (env === undefined) for (const [name, value] of Object.entries(fromFile)) if (process.env[name] === undefined) process.env[name] = value;
  const source = { ...fromFile, ...(env ?? process.env) };
  const json = jsonSchemaOf(schema, "input");
  const fields = Object.keys((json?.properties as object | undefined) ?? {});
  const names = new Map(fields.map((field) => [field, prefix + envName(field)]));
  const raw: Record<string, string | undefined> = {};
  if (fields.length === 0) {
    // A validator that describes no fields: every variable under the prefix, by its name.
    for (const [name, value] of Object.entries(source)) if (name.startsWith(prefix)) raw[name.slice(prefix.length)] = value;
  } else {
    for (const [field, name] of names) raw[field] = lookup(source, name);
  }
  const problems: SettingsProblem[] = [];
  const input = structured(json, coercerFor(json)?.(raw) ?? raw, raw, names, problems);
  const result = schema["~standard"].validate(input);
  if (result instanceof Promise) throw new TypeError("settings() needs a schema that validates synchronously (no async refinements)");
  for (const issue of result.issues ?? []) {
    const key = issue.path?.[0];
    const field = String(typeof key === "object" ? key.key : (key ?? ""));
    const variable = names.get(field) ?? (prefix + field || "(settings)");
    if (problems.some((p) => p.variable === variable)) continue;
    problems.push({ variable, message: raw[field] === undefined && fields.includes(field) ? "missing" : issue.message });
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return Object.freeze((result as StandardSchemaV1.SuccessResult<StandardSchemaV1.InferOutput<S>>).value);
}

/**
 * The variables of a `.env` file (`KEY=value`, quotes, `#` comments, `export KEY=...`), as
 * `--env-file` and `settings()` read it. A file named on purpose must exist; the default `.env` may not.
 */
export function readEnvFile(path: string, required = true): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new Error(`cannot read the env file ${JSON.stringify(path)}: ${(error as Error).message}`);
  }
  return { ...parseEnv(text.replace(/^\s*export\s+/gm, "")) } as Record<string, string>;
}

/** A field's variable: `databaseUrl` and `database_url` read `DATABASE_URL`; `DATABASE_URL` reads itself. */
export function envName(field: string): string {
  return field
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[-.\s]+/g, "_")
    .toUpperCase();
}

/** The variable by its exact name, or else by its name in any case (as pydantic-settings matches). */
function lookup(source: Record<string, string | undefined>, name: string): string | undefined {
  if (source[name] !== undefined) return source[name];
  const upper = name.toUpperCase();
  for (const key in source) if (key.toUpperCase() === upper) return source[key];
  return undefined;
}

/** Object and list fields come as JSON (as pydantic-settings reads them); text that is not JSON is a problem of its own. */
function structured(
  json: Record<string, unknown> | undefined,
  coerced: Record<string, unknown>,
  raw: Record<string, string | undefined>,
  names: Map<string, string>,
  problems: SettingsProblem[],
): Record<string, unknown> {
  const properties = (json?.properties ?? {}) as Record<string, { type?: unknown }>;
  const out = { ...coerced };
  for (const [field, property] of Object.entries(properties)) {
    const value = raw[field];
    if (typeof value !== "string" || (property.type !== "object" && property.type !== "array")) continue;
    try {
      out[field] = JSON.parse(value);
    } catch {
      problems.push({ variable: names.get(field)!, message: `not valid JSON (a ${property.type} is given as JSON)` });
    }
  }
  return out;
}
