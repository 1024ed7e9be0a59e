// When a request's temporary files go: once its answer is made, or, when the answer is streamed
// (it may read an upload as it goes), once the stream has ended, failed or been closed.
import { isStreamBody, type OutgoingResponse, type StreamBody } from "../http/response.js";

/** `done` that removes the request's uploads after the answer (see above). */
export function releasingAfter<R extends Pick<OutgoingResponse, "body">>(done: (result: R) => void, release: () => void): (result: R) => void {
  return (result) => {
    if (!isStreamBody(result.body)) {
      done(result);
      release();
      return;
    }
    result.body = releasedAfter(result.body, release);
    done(result);
  };
}

/**
 * The same stream, calling `release` once when it ends, fails or is closed. An iterator object
 * rather than a generator: closing a generator that never started skips its `finally`.
 */
function releasedAfter(body: StreamBody, release: () => void): StreamBody {
  let released = false;
  const once = () => {
    if (released) return;
    released = true;
    release();
  };
  return {
    [Symbol.asyncIterator]() {
      const inner = body[Symbol.asyncIterator]();
      return {
        async next() {
          try {
            const step = await inner.next();
            if (step.done) once();
            return step;
          } catch (error) {
            once();
            throw error;
          }
        },
        async return(value?: unknown) {
          try {
            return (await inner.return?.(value)) ?? { done: true as const, value: undefined };
          } finally {
            once();
          }
        },
      };
    },
  };
}
