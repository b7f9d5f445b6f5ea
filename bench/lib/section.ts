/** A benchmark section: runs its measurements and returns its part of RESULTS.md and results.json. */
export interface BenchContext {
  /** A small slice that runs in about a minute (used by the test suite and for smoke runs). */
  readonly quick: boolean;
  /** Progress goes to stderr. */
  log(line: string): void;
}

export interface SectionResult {
  readonly markdown: string;
  readonly json: unknown;
}

export interface BenchSection {
  run(context: BenchContext): Promise<SectionResult>;
}
