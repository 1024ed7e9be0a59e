// How long each target runs, smoothed: to tell trivial targets (which may be batched into a
// worker that is already awake) from the rest, and to estimate how long queued work will take.

/** A target is fast once it has run this many times averaging under `fastMs` (a trivial handler, not a quick query). */
const fastAfterSamples = 16;
const fastMs = 0.2;
/** Under this average a target may go ahead of slower waiting work. */
const quickMs = 5;

export interface TargetTiming {
  samples: number;
  averageMs: number;
}

export class TaskTimings {
  /** By kind, then target: no key strings built per task. */
  private readonly byKind = new Map<number, Map<number | string, TargetTiming>>();
  /** Every target's runs, smoothed: the estimate for a target that has not run yet. */
  typicalMs = 0;

  /** The target's timing, or undefined before its first run. */
  of(kind: number, target: number | string): TargetTiming | undefined {
    return this.byKind.get(kind)?.get(target);
  }

  /**
   * Measured a few times at a few milliseconds or less (a cold first run included): worth running
   * ahead of slower work that waits (a hello behind forty sleepers), which it delays by next to nothing.
   */
  static isQuick(timing: TargetTiming | undefined): boolean {
    return timing !== undefined && timing.samples >= 3 && timing.averageMs < quickMs;
  }

  static isFast(timing: TargetTiming | undefined): boolean {
    return timing !== undefined && timing.samples >= fastAfterSamples && timing.averageMs < fastMs;
  }

  record(kind: number, target: number | string, runMs: number): void {
    let byTarget = this.byKind.get(kind);
    if (!byTarget) this.byKind.set(kind, (byTarget = new Map()));
    const timing = byTarget.get(target);
    if (!timing) byTarget.set(target, { samples: 1, averageMs: runMs });
    else if (timing.samples === 1 && runMs < timing.averageMs) {
      // A first run is cold (compiling, first imports), often ten times the next: the second replaces it.
      timing.samples++;
      timing.averageMs = runMs;
    } else {
      timing.samples++;
      timing.averageMs += (runMs - timing.averageMs) / Math.min(timing.samples, 32);
    }
    this.typicalMs += (runMs - this.typicalMs) / 32;
  }
}
