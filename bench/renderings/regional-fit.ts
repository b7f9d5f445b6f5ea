/**
 * Fits the regional repost rules (reposts.ts: `regionNearMinCosine`, `verifiedMinCosine`,
 * `verifiedMinInliers`) on the fit split of the held-out corpus and reports them on the test split.
 * Each query's candidates were weighed once by the real engine (`engine.weighRepost`); every
 * threshold setting is then decided with the engine's own `decide`, so the fit sees exactly the
 * verdicts the product would give. The false-repost budget on the fit split is half the promised
 * rate, so that the promise holds with a margin on renderings the fit never saw.
 */
import { type DecisionSpace, decide, type RepostThresholds, type WeighedCandidate } from "../../src/retrieval/reposts.ts";
import { DEFAULT_REPOST_THRESHOLDS } from "../../src/retrieval/thresholds.ts";
import type { RowGroup } from "./corpus.ts";
import type { Split } from "./kinds/types.ts";

/** A query's weighed candidates, with what a right answer is. */
export interface WeighedQuery {
  readonly kind: string;
  readonly group: RowGroup;
  readonly split: Split;
  /** The right original (canonical key), null for a negative. */
  readonly expected: string | null;
  readonly space: DecisionSpace;
  readonly weighed: readonly WeighedCandidate[];
  /** Whether a candidate id names the expected original (known duplicates count as it). */
  readonly isExpected: (id: string) => boolean;
}

export type RegionalRules = Pick<RepostThresholds, "regionNearMinCosine" | "verifiedMinCosine" | "verifiedMinInliers">;

/** The promised false-repost rate, and the share of it the fit may use. */
export const PROMISED_FALSE_RATE = 0.005;
const FIT_SHARE = 0.5;

export interface Outcome {
  readonly found: number;
  readonly asked: number;
  readonly falseReposts: number;
  readonly negatives: number;
  readonly byKind: Map<string, { found: number; asked: number }>;
}

const isRepost = (verdict: string) => verdict === "exact" || verdict === "near-duplicate";

export function outcome(queries: readonly WeighedQuery[], rules: RegionalRules): Outcome {
  let found = 0;
  let asked = 0;
  let falseReposts = 0;
  let negatives = 0;
  const byKind = new Map<string, { found: number; asked: number }>();
  for (const query of queries) {
    const thresholds = { ...DEFAULT_REPOST_THRESHOLDS[query.space], ...rules };
    const verdict = decide(query.weighed, thresholds, query.space);
    const flagged = isRepost(verdict.verdict);
    if (query.expected === null) {
      negatives++;
      if (flagged) falseReposts++;
      continue;
    }
    const right = flagged && verdict.match !== null && query.isExpected(verdict.match.id);
    const entry = byKind.get(query.kind) ?? { found: 0, asked: 0 };
    entry.asked++;
    asked++;
    if (right) {
      entry.found++;
      found++;
    }
    byKind.set(query.kind, entry);
  }
  return { found, asked, falseReposts, negatives, byKind };
}

const GRID = {
  regionNearMinCosine: [undefined, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8],
  verifiedMinCosine: [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5],
  verifiedMinInliers: [5, 6, 7, 8, 9, 10, 12, 15, 20],
} as const;

/** The rules with the most reposts found on the fit split within the fit's false-repost budget. */
export function fitRegionalRules(fit: readonly WeighedQuery[]): { rules: RegionalRules; outcome: Outcome } {
  let best: { rules: RegionalRules; outcome: Outcome } | undefined;
  for (const regionNearMinCosine of GRID.regionNearMinCosine) {
    for (const verifiedMinCosine of GRID.verifiedMinCosine) {
      for (const verifiedMinInliers of GRID.verifiedMinInliers) {
        const rules = { regionNearMinCosine, verifiedMinCosine, verifiedMinInliers };
        const result = outcome(fit, rules);
        if (result.falseReposts > PROMISED_FALSE_RATE * FIT_SHARE * result.negatives) continue;
        if (!best || result.found > best.outcome.found) best = { rules, outcome: result };
      }
    }
  }
  return best ?? { rules: {}, outcome: outcome(fit, {}) };
}

/** The fitted rules in words, for the report. */
export function describeRules(rules: RegionalRules): string {
  const parts = [
    rules.regionNearMinCosine === undefined ? "no rule for a part alone" : `a part alone: cosine ≥ ${rules.regionNearMinCosine}`,
    rules.verifiedMinInliers === undefined
      ? "no verified-copy rule"
      : `verified copy: ≥ ${rules.verifiedMinInliers} cells lined up and cosine of the closest parts ≥ ${rules.verifiedMinCosine}`,
  ];
  return parts.join("; ");
}
