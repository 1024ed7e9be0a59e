/** Query string values: a key given once is a string, a repeated key an array. */
export type Query = Record<string, string | string[]>;

export type Headers = Record<string, string | string[] | undefined>;

/**
 * What a handler receives, on either lane. It is plain data so that it crosses to a worker
 * unchanged: a worker-lane handler sees exactly what a loop-lane one would.
 */
export interface HttpRequest<Params = Record<string, string>> {
  method: string;
  /** Path and query string as sent. */
  url: string;
  path: string;
  params: Params;
  query: Query;
  /** Lower-cased header names, as Node gives them. */
  headers: Headers;
  /** Parsed body: JSON value, form fields, text, bytes, or undefined when there was none. */
  body: unknown;
  /** Client address, `ip:port`. */
  client: string;
}
