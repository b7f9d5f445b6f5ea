/**
 * What a repost verdict list adds up to, on one half of the corpus: recall per transform and per
 * group (a repost counts only when the verdict is a repost AND names the right original), and the
 * false-repost rate over non-repost queries.
 */
import { mean } from "../lib/metrics.ts";
import type { Half, RepostQuery } from "./corpus.ts";

export interface Decision {
  readonly repost: boolean;
  /** Row of the stored image the verdict names (−1 for none). */
  readonly index: number;
  readonly exact?: boolean;
}

export interface Outcome {
  readonly falseReposts: number;
  readonly negatives: number;
  readonly falseRate: number;
  readonly recall: Record<"mild" | "strong" | "re-photo", number>;
  readonly byTransform: Record<string, number>;
  /** Share of same-picture reposts called "exact" (fused verdicts only). */
  readonly exactRate?: number;
}

export const LEVELS = ["strict", "balanced", "loose"] as const;
export type Level = (typeof LEVELS)[number];
/** Budget used to choose thresholds on the calibration half, and the rate promised on new data. */
export const BUDGET: Record<Level, { calibration: number; target: number }> = {
  strict: { calibration: 0.001, target: 0.002 },
  balanced: { calibration: 0.0025, target: 0.005 },
  loose: { calibration: 0.01, target: 0.02 },
};

export function summarize(
  queries: readonly RepostQuery[],
  expectedRows: readonly (number | null)[],
  decisions: readonly Decision[],
  half: Half | "all",
  samePicture?: ReadonlySet<string>,
): Outcome {
  const inHalf = (q: RepostQuery) => half === "all" || q.half === half;
  let falseReposts = 0;
  let negatives = 0;
  const hits = new Map<string, boolean[]>();
  const groups: Record<string, boolean[]> = { mild: [], strong: [], "re-photo": [] };
  const exact: boolean[] = [];
  queries.forEach((q, i) => {
    if (!inHalf(q)) return;
    const d = decisions[i]!;
    if (q.expected === null) {
      negatives++;
      if (d.repost) falseReposts++;
      return;
    }
    const found = d.repost && d.index === expectedRows[i];
    hits.set(q.transform, [...(hits.get(q.transform) ?? []), found]);
    groups[q.group]?.push(found);
    if (samePicture?.has(q.transform)) exact.push(d.exact === true && d.index === expectedRows[i]);
  });
  const rate = (xs: readonly boolean[]) => mean(xs.map(Number));
  return {
    falseReposts,
    negatives,
    falseRate: negatives === 0 ? NaN : falseReposts / negatives,
    recall: { mild: rate(groups.mild!), strong: rate(groups.strong!), "re-photo": rate(groups["re-photo"]!) },
    byTransform: Object.fromEntries([...hits].map(([t, xs]) => [t, rate(xs)])),
    exactRate: samePicture ? rate(exact) : undefined,
  };
}
