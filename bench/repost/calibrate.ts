/**
 * Threshold calibration at a false-repost budget. Every threshold is chosen on the calibration
 * half only; the section then reports both halves, so the margin is visible: the budget used for
 * choosing is half the target (0.25 % for the 0.5 % target) and the test half shows what it buys.
 */
import { classify, type RepostThresholds, type Verdict } from "../../src/retrieval/reposts.ts";
import type { Candidate } from "./evidence.ts";

/** A query as calibration sees it. */
export interface Labelled {
  readonly expected: number | null;
  readonly transform: string;
}

/**
 * The threshold t for a single score (higher = more alike) such that flagging "score > t" flags
 * at most `budget` of the negatives' best scores. With no room at all it is the top negative.
 */
export function scoreThreshold(negativeBest: readonly number[], budget: number): number {
  const sorted = [...negativeBest].sort((a, b) => b - a);
  const allowed = Math.floor(budget * sorted.length);
  return allowed < sorted.length ? sorted[allowed]! : -Infinity;
}

const RANK: Record<Verdict, number> = { exact: 3, "near-duplicate": 2, similar: 1, new: 0 };

/** The engine's `judge` selection over pre-computed evidence: strongest verdict, ties to the higher cosine. */
export function judgeEvidence(candidates: readonly Candidate[], t: RepostThresholds): { verdict: Verdict; index: number } {
  let verdict: Verdict = "new";
  let index = -1;
  let bestScore = -Infinity;
  for (const c of candidates) {
    const v = classify(c, t);
    if (RANK[v] > RANK[verdict] || (RANK[v] === RANK[verdict] && c.score > bestScore)) {
      verdict = v;
      index = c.index;
      bestScore = c.score;
    }
  }
  return { verdict, index };
}

export const isRepost = (v: Verdict): boolean => v === "exact" || v === "near-duplicate";

/** Transforms that keep every pixel of the picture (re-encode, resize): what "exact" should mean. */
export const SAME_PICTURE = new Set(["jpeg-q30", "downscale-50", "downscale-25", "downscale-50+jpeg-q30"]);

type ExactThresholds = Pick<RepostThresholds, "exactMaxPhash" | "exactMaxDhash" | "exactMinCosine">;
const NEVER: Omit<RepostThresholds, keyof ExactThresholds> = {
  nearMinCosine: 2,
  hashNearMaxPhash: -1,
  hashNearMinCosine: 2,
  similarMinCosine: 2,
};

/**
 * "exact": the widest hash/cosine box that gives no calibration negative an exact verdict and
 * still calls the most same-picture reposts exact (fewest exact calls on other edits as tie-break).
 */
export function calibrateExact(evidence: readonly Candidate[][], queries: readonly Labelled[]): ExactThresholds {
  let best: ExactThresholds = { exactMaxPhash: -1, exactMaxDhash: -1, exactMinCosine: 2 };
  let bestKey = [-Infinity, -Infinity];
  // Highest cosine floor first: among equally good boxes the most conservative wins.
  for (const exactMinCosine of [0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]) {
    for (let exactMaxPhash = 0; exactMaxPhash <= 14; exactMaxPhash += 2) {
      for (let exactMaxDhash = 0; exactMaxDhash <= 20; exactMaxDhash += 2) {
        const t = { ...NEVER, exactMinCosine, exactMaxPhash, exactMaxDhash };
        let falseExact = 0;
        let samePicture = 0;
        let otherEdits = 0;
        queries.forEach((q, i) => {
          const { verdict, index } = judgeEvidence(evidence[i]!, t);
          if (verdict !== "exact") return;
          if (q.expected === null) falseExact++;
          else if (index === q.expected && SAME_PICTURE.has(q.transform)) samePicture++;
          else otherEdits++;
        });
        const key = [samePicture, -otherEdits];
        if (falseExact === 0 && (key[0]! > bestKey[0]! || (key[0] === bestKey[0] && key[1]! > bestKey[1]!))) {
          best = { exactMinCosine, exactMaxPhash, exactMaxDhash };
          bestKey = key;
        }
      }
    }
  }
  return best;
}

/** Rounds a score threshold up to 3 decimals, so "≥ rounded" still flags only scores above t. */
export const ceil3 = (t: number): number => Math.ceil((t + 1e-9) * 1000) / 1000;

/**
 * The near-duplicate rules at a budget: for each pHash rule (distance h, cosine floor c2) the
 * negatives it already flags use up part of the budget, and the plain cosine threshold takes the
 * rest; the combination with the best calibration recall wins (ties: the fewer flagged negatives).
 */
export function calibrateNear(
  evidence: readonly Candidate[][],
  queries: readonly Labelled[],
  exact: ExactThresholds,
  budget: number,
  similarMinCosine: number,
): RepostThresholds {
  const negatives = queries.map((_q, i) => i).filter((i) => queries[i]!.expected === null);
  const allowed = Math.floor(budget * negatives.length);
  const maxScore = (i: number) => Math.max(-1, ...evidence[i]!.map((c) => c.score));
  let best: RepostThresholds | undefined;
  let bestKey = [-Infinity, -Infinity];
  for (let h = -1; h <= 20; h += 1) {
    // Down to 0: whitened cosines live lower than plain ones.
    for (let c2 = 1.0; c2 >= -0.0001; c2 -= 0.02) {
      const hashOnly: RepostThresholds = { ...exact, nearMinCosine: 2, hashNearMaxPhash: h, hashNearMinCosine: c2, similarMinCosine };
      const flagged = negatives.filter((i) => isRepost(judgeEvidence(evidence[i]!, hashOnly).verdict));
      if (flagged.length > allowed) continue;
      const flaggedSet = new Set(flagged);
      const rest = negatives.filter((i) => !flaggedSet.has(i)).map(maxScore);
      const nearMinCosine = ceil3(scoreThreshold(rest, (allowed - flagged.length) / Math.max(1, rest.length)));
      const t = { ...hashOnly, nearMinCosine };
      let found = 0;
      let falses = 0;
      queries.forEach((q, i) => {
        const { verdict, index } = judgeEvidence(evidence[i]!, t);
        if (!isRepost(verdict)) return;
        if (q.expected === null) falses++;
        else if (index === q.expected) found++;
      });
      const key = [found, -falses];
      if (falses <= allowed && (key[0]! > bestKey[0]! || (key[0] === bestKey[0] && key[1]! > bestKey[1]!))) {
        best = { ...t, hashNearMinCosine: Math.round(c2 * 100) / 100 + 0 };
        bestKey = key;
      }
      if (h === -1) break; // the cosine floor is irrelevant when the hash rule is off
    }
  }
  return best!;
}
