// What every scenario shares: how to print, how many rounds to run, and where targets go.

export interface BenchContext {
  /** Tables as Markdown, for the docs. */
  markdown: boolean;
  /** Rounds of each measurement; a scenario keeps each peer's best, since the machines are shared. */
  rounds: number;
  /** Records a target as met or MISSED, with the figures behind the verdict. */
  target(description: string, met: boolean, figures: string): void;
}
