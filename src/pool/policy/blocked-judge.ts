// Are the busy workers blocked (sleeping, waiting on a driver: more workers help) or computing
// (more would only share the cores)? Judged from the pool's looks while work waits. Part of the
// pure policy.
import { type Look, lookEveryMs, secondSightingMs } from "./contract.js";

export class BlockedJudge {
  /**
   * Whether the busy workers were found blocked while this queue lasted (undefined: not looked
   * yet). Wait estimates count the room to grow unless they were found computing.
   */
  blocked: boolean | undefined;
  private blockedLooks = 0;

  constructor(private readonly cores: number) {}

  /** The queue emptied: the next episode is judged afresh. */
  reset(): void {
    this.blocked = undefined;
    this.blockedLooks = 0;
  }

  /** Judges one look: whether more workers would help, and when to look next. */
  see(seen: Look): { helps: boolean; nextLookMs: number } {
    if (seen.threads === undefined) {
      // Two looks in a row: a worker waiting a moment for its next task (the loop was busy) looks blocked too.
      this.judge(seen.looksBlocked);
      return { helps: this.blockedLooks >= 2, nextLookMs: lookEveryMs };
    }
    const { blocked, computing, unknown } = seen.threads;
    if (blocked + computing > 0) {
      // Seen inside their tasks, one look is enough. More workers help while most busy ones are
      // blocked and the ones computing leave a core free; CPU-bound work keeps its workers
      // runnable, so it never grows.
      this.judge(blocked > computing && computing < this.cores);
      return { helps: this.blocked === true, nextLookMs: lookEveryMs };
    }
    return { helps: false, nextLookMs: unknown > 0 ? secondSightingMs : lookEveryMs };
  }

  private judge(blocked: boolean): void {
    this.blocked = blocked;
    this.blockedLooks = blocked ? this.blockedLooks + 1 : 0;
  }
}
