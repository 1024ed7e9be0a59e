// The connections to Redis as the queue lane sees them: connected at start (or failing plainly),
// closed within a bound, and watched for silence. Redis that keeps its connection open but
// answers nothing (a stopped process, a frozen host or network) is never reported by the
// connection itself: no "close", no error, commands just wait. So while requests wait on it, the
// lane pings it, and a ping unanswered for `silentAfterMs` counts as the connection lost.

/** How long a ping may go unanswered before Redis is taken for lost. */
export const silentAfterMs = 3_000;

export class SilenceWatch {
  private sentAt: number | undefined;

  constructor(
    private readonly ping: () => Promise<unknown>,
    private readonly lost: (error: Error) => void,
    private readonly answered: () => void,
  ) {}

  /** Pings unless a ping is out; one out for too long reports the connection lost. */
  check(now: number): void {
    if (this.sentAt !== undefined) {
      if (now - this.sentAt > silentAfterMs) this.lost(new Error(`Redis has not answered a ping for ${silentAfterMs / 1000} s`));
      return;
    }
    this.sentAt = now;
    this.ping().then(
      () => {
        this.sentAt = undefined;
        this.answered();
      },
      () => {
        // A refused or closed connection reports itself; only silence is this watch's to tell.
        this.sentAt = undefined;
      },
    );
  }
}

/**
 * Resolves once `client` is connected; the first connection error fails it at once, said plainly:
 * a supervisor restarts the process, while one that started without its queue would answer every
 * queue-lane request 503.
 */
export interface Connecting {
  on(event: "error", listener: (error: Error) => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
  waitUntilReady(): Promise<unknown>;
}

export async function connected(client: Connecting, timeoutMs: number): Promise<void> {
  let onError: (error: Error) => void = () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onError = reject;
      client.on("error", onError);
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      client.waitUntilReady().then(() => resolve(), reject);
    });
  } finally {
    clearTimeout(timer);
    client.off("error", onError);
  }
}

/** BullMQ's close can wait forever on a connection that is down: the server's shutdown waits 2 s at most. */
export function closeWithin(closing: (Promise<void> | undefined)[]): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise((resolve) => {
    timer = setTimeout(resolve, 2_000);
    timer.unref();
  });
  return Promise.race([Promise.allSettled(closing), bound]).finally(() => clearTimeout(timer));
}
