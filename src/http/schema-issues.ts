// What the response side needs of a Standard Schema validator (src/params/standard-schema.ts has
// the whole interface, a floor above): to validate a value, and to say where it failed.

/** A Standard Schema validator, as far as checking a value goes. */
export interface ValueSchema {
  readonly "~standard": {
    readonly validate: (value: unknown) => ValidationOutcome | Promise<ValidationOutcome>;
  };
}

type ValidationOutcome = { readonly value: unknown; readonly issues?: undefined } | { readonly issues: ReadonlyArray<SchemaIssue> };

interface SchemaIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** `name: expected string; tags.0: too short`: each issue with the path it is at. */
export function describeIssues(issues: ReadonlyArray<SchemaIssue>): string {
  return issues.map((i) => `${(i.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)).join(".") || "(root)"}: ${i.message}`).join("; ");
}
