// How much of a form a route takes. A form's text fields are held in memory and its files go to
// disk past a threshold, so each has its own bound; anything past one is a 413 naming it.

export interface FormLimits {
  /** Largest file, bytes (default 10 MiB). */
  maxFileSize?: number;
  /** Most files in one request (default 10). */
  maxFiles?: number;
  /** Most text fields in one request, in `multipart/form-data` and urlencoded bodies alike (default 1000). */
  maxFields?: number;
  /** The text fields of a multipart body together, bytes (default 1 MiB): they are held in memory. */
  maxFieldsSize?: number;
  /**
   * A file larger than this is written to a temporary file as it arrives instead of being kept in
   * memory, bytes (default 1 MiB; 0 writes every file to disk).
   */
  spoolThreshold?: number;
}

export type ResolvedFormLimits = Required<FormLimits>;

const MiB = 1024 * 1024;

export const defaultFormLimits: ResolvedFormLimits = Object.freeze({
  maxFileSize: 10 * MiB,
  maxFiles: 10,
  // Starlette's figure: enough for any form a person fills in, far from what floods a parser.
  maxFields: 1000,
  maxFieldsSize: MiB,
  spoolThreshold: MiB,
});

/** A part's own headers (name, filename, type) may take this much: more is not a form a browser sends. */
export const partHeaderLimit = 16 * 1024;

/** Every limit filled in, each checked once when the route is registered. */
export function resolveFormLimits(limits: FormLimits | undefined, where: string): ResolvedFormLimits {
  if (limits === undefined) return defaultFormLimits;
  if (typeof limits !== "object" || limits === null) throw new TypeError(`${where}: formLimits must be an object`);
  const resolved = { ...defaultFormLimits };
  for (const key of Object.keys(limits) as (keyof FormLimits)[]) {
    if (!(key in defaultFormLimits)) throw new TypeError(`${where}: formLimits has no option "${key}"`);
    const value = limits[key];
    if (value === undefined) continue;
    const least = key === "spoolThreshold" || key === "maxFiles" || key === "maxFields" ? 0 : 1;
    if (!(Number.isSafeInteger(value) && value >= least)) {
      throw new RangeError(`${where}: formLimits.${key} must be a whole number, at least ${least}, got ${value}`);
    }
    resolved[key] = value;
  }
  return Object.freeze(resolved);
}

/**
 * The most bytes a multipart body within these limits can take: every file and field at its
 * limit, plus each part's headers. A declared length above it is refused before reading.
 */
export function largestForm(limits: ResolvedFormLimits): number {
  const parts = limits.maxFiles + limits.maxFields;
  return limits.maxFiles * limits.maxFileSize + limits.maxFieldsSize + (parts + 1) * partHeaderLimit;
}
