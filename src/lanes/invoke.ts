// Calling a route's handler and turning its value or error into a response: the last step of
// every lane. The same code runs on the loop lane (main thread), inside a worker thread and in a
// worker process, so every lane answers identically.
import { backgroundOf } from "../deps/background-tasks.js";
import type { Dependency, DependencyMap, PlanStep } from "../deps/dependency.js";
import { cleanUp, resolveDependencies, valuesFor, type RunOnPool } from "../deps/resolve.js";
import { isReply, type Reply } from "../http/reply.js";
import { describeIssues } from "../http/schema-issues.js";
import { itemSource, jsonLines, sse } from "../http/event-stream.js";
import { isResponseObject, json, primeStream, toResult, type RouteResult } from "../http/response.js";
import type { HttpRequest } from "../http/request.js";
import { schemaSerializer } from "../http/schema-serializer.js";
import type { StandardSchemaV1 } from "../params/standard-schema.js";
import type { BackgroundEntry } from "../threads/background-tasks.js";
import { crossingDependencyValue } from "./dependency-crossing.js";
import { answeredError, encodeError } from "./errors.js";
import type { DependencyOutcome } from "./results.js";

/** The app's exception handlers, as a lane uses them: the app's own answer for an error, else the default. */
export interface ErrorAnswers {
  handles(error: unknown): boolean;
  respond(error: unknown, req: HttpRequest): RouteResult | Promise<RouteResult>;
}

/** What a lane needs of a route to run it (the app's route table holds more). */
export interface InvokedRoute {
  method: string;
  path: string;
  status: number;
  handler: (req: HttpRequest<any, any, any, any, any>, deps: any) => unknown;
  deps: DependencyMap;
  steps: PlanStep[];
  response: StandardSchemaV1 | undefined;
  responses?: { [status: number]: StandardSchemaV1 };
  stream?: ItemStream;
  errors: ErrorAnswers;
}

const noDeps = Object.freeze({});

/**
 * Calls a route's handler and turns its value or error into a response. The same code runs on
 * the loop lane (main thread) and inside a worker, so both lanes answer identically. A route
 * without dependencies takes the short path: no promise unless the handler makes one.
 */
export function invokeRoute(route: InvokedRoute, req: HttpRequest, runOnPool?: RunOnPool): RouteResult | Promise<RouteResult>;
/** `finish` is applied to the result in the same step, so an async handler costs one promise more, not two. */
export function invokeRoute<T>(
  route: InvokedRoute,
  req: HttpRequest,
  runOnPool: RunOnPool | undefined,
  finish: (result: RouteResult) => T,
): T | Promise<T>;
export function invokeRoute(
  route: InvokedRoute,
  req: HttpRequest,
  runOnPool?: RunOnPool,
  finish = (result: RouteResult): unknown => result,
): unknown {
  if (route.steps.length > 0) return invokeWithDependencies(route, req, runOnPool).then(finish);
  // Never throws: respond() answers any value thrown, even one that is not an Error.
  const fail = (error: unknown) => finishWith(route.errors.respond(error, req), finish);
  let value: unknown;
  let pending: boolean;
  try {
    value = route.handler(req, noDeps);
    pending = value instanceof Promise;
  } catch (error) {
    return fail(error);
  }
  const settle = (resolved: unknown) => {
    let result: RouteResult | Promise<RouteResult>;
    try {
      result = resultOf(resolved, route);
    } catch (error) {
      return fail(error);
    }
    return result instanceof Promise ? result.then(finish, fail) : finish(result);
  };
  return pending ? (value as Promise<unknown>).then(settle, fail) : settle(value);
}

function finishWith<T>(result: RouteResult | Promise<RouteResult>, finish: (result: RouteResult) => T): T | Promise<T> {
  return result instanceof Promise ? result.then(finish) : finish(result);
}

async function invokeWithDependencies(route: InvokedRoute, req: HttpRequest, runOnPool: RunOnPool | undefined): Promise<RouteResult> {
  let resolved: Awaited<ReturnType<typeof resolveDependencies>>;
  try {
    resolved = await resolveDependencies(route.steps, req, runOnPool);
  } catch (error) {
    return route.errors.respond(error, req);
  }
  let result: RouteResult | undefined;
  let failure: { error: unknown } | undefined;
  try {
    result = await resultOf(await route.handler(req, valuesFor(route.deps, resolved.values)), route);
  } catch (error) {
    failure = { error };
  }
  // Cleanups run once the response is built: the handler is done with what they hold.
  if (resolved.cleanups.length > 0) failure = await cleanUp(resolved.cleanups, failure);
  if (failure !== undefined) return route.errors.respond(failure.error, req);
  // Tasks run only after a response the handler made: an error discards them, as in FastAPI.
  const background = backgroundOf(req);
  if (background) (result as RouteResult & WithBackground).background = background;
  return result!;
}

/** A result whose handler added background tasks: they run once it is sent. */
export interface WithBackground {
  background?: BackgroundEntry[];
}

/** The handler's value did not match the route's `response` schema: a 500 whose details go to the log only. */
export class ResponseValidationError extends Error {
  override readonly name = "ResponseValidationError";
}

/** A streaming route's items (`sse` or `jsonLines` option): each validated by `item`, sent in `format`. */
export interface ItemStream {
  format: "sse" | "jsonLines";
  item: StandardSchemaV1;
}

/** Validates a plain value against the route's `response` schema, then makes it a response. */
function resultOf(value: unknown, route: InvokedRoute): RouteResult | Promise<RouteResult> {
  if (isReply(value)) return replyResult(value, route);
  const items = route.stream && itemSource(value);
  if (items) {
    const { format, item } = route.stream!;
    return primeStream(
      toResult(
        format === "sse" ? sse(items, { item, status: route.status }) : jsonLines(items, { item, status: route.status }),
        route.status,
      ) as RouteResult,
    );
  }
  if (!route.response || isResponseObject(value)) {
    const result = toResult(value, route.status);
    return result instanceof Promise ? result.then(primeStream) : primeStream(result);
  }
  // A serialiser compiled from the schema writes what JSON.stringify would, faster (none for a 204 or 304: no body).
  const serialize = route.status === 204 || route.status === 304 ? undefined : schemaSerializer(route.response);
  return validated(route.response, value, route, (body) =>
    serialize === undefined
      ? toResult(body, route.status)
      : { status: route.status, headers: { "content-type": "application/json" }, body: serialize(body) },
  );
}

/**
 * A `reply()`: its value checked by the schema declared for its status (`responses`, else the
 * route's `response` for a 2xx), then sent as JSON with its status, headers and cookies.
 */
function replyResult({ value, init }: Reply, route: InvokedRoute): RouteResult | Promise<RouteResult> {
  const status = init.status ?? route.status;
  const schema = route.responses?.[status] ?? (status >= 200 && status < 300 ? route.response : undefined);
  const send = (body: unknown): RouteResult => {
    const response = json(body, { ...init, status });
    if (status === 204 || status === 304) response.body = "";
    return toResult(response, status) as RouteResult;
  };
  return schema ? validated(schema, value, route, send) : send(value);
}

function validated(
  schema: StandardSchemaV1,
  value: unknown,
  route: InvokedRoute,
  send: (body: unknown) => RouteResult | Promise<RouteResult>,
): RouteResult | Promise<RouteResult> {
  const checked = schema["~standard"].validate(value);
  const use = (outcome: Awaited<typeof checked>) => {
    if (outcome.issues) {
      throw new ResponseValidationError(
        `${route.method} ${route.path} returned a value its response schema refuses: ${describeIssues(outcome.issues)}`,
      );
    }
    return send(outcome.value);
  };
  return checked instanceof Promise ? checked.then(use) : use(checked);
}

/** Runs a plain dependency inside a worker for a loop-lane route; its error crosses back in the one form. */
export function invokePooledDependency(
  dep: Dependency,
  req: HttpRequest,
  deps: Record<string, unknown>,
  errors: ErrorAnswers,
): DependencyOutcome | Promise<DependencyOutcome> {
  const ok = (value: unknown): DependencyOutcome => ({ value: crossingDependencyValue(dep, value) });
  const failed = (error: unknown): DependencyOutcome | Promise<DependencyOutcome> => {
    // The app's own handler answers here, where the error's class is known.
    if (errors.handles(error)) {
      const answer = errors.respond(error, req);
      return answer instanceof Promise ? answer.then((result) => ({ error: answeredError(error, result) })) : { error: answeredError(error, answer) };
    }
    return { error: encodeError(error) };
  };
  let value: unknown;
  try {
    value = dep.fn(req, deps);
  } catch (error) {
    return failed(error);
  }
  // A value that cannot cross is the app's bug, never given to its exception handlers.
  return value instanceof Promise ? value.then(ok, failed) : ok(value);
}
