// Which bodies are forms. Their values are strings, like a query string's, so a declared body
// coerces them the same way (`age=3` → 3 for a number field); a JSON body is taken as it is.

const forms = new WeakSet<object>();

/** Marks `fields` as a form's (urlencoded or multipart) and returns it. */
export function markFormBody<T extends object>(fields: T): T {
  forms.add(fields);
  return fields;
}

export function isFormBody(body: unknown): body is Record<string, string | string[] | undefined> {
  return typeof body === "object" && body !== null && forms.has(body);
}
