/**
 * Repost verdicts: fuse the CNN's cosine (robust to crops, captions, screenshots, colour changes)
 * with perceptual-hash distance (precise for re-encodes and resizes of the very same pixels).
 * Pure functions over candidates already retrieved by vector search.
 */
import type { Fingerprint } from "./fingerprint.ts";
import { hamming } from "./hashes.ts";
import { cosine, type Match } from "./store.ts";

export type Verdict = "exact" | "near-duplicate" | "similar" | "new";

export interface RepostThresholds {
  /** `exact`: pHash and dHash within these Hamming distances and cosine at least `exactMinCosine`. */
  readonly exactMaxPhash: number;
  readonly exactMaxDhash: number;
  readonly exactMinCosine: number;
  /** `near-duplicate`: cosine at least this (calibrated at a false-repost rate, see bench/RESULTS.md). */
  readonly nearMinCosine: number;
  /** `near-duplicate` too when the pHashes agree this closely and the cosine is at least `hashNearMinCosine`. */
  readonly hashNearMaxPhash: number;
  readonly hashNearMinCosine: number;
  /** `similar`: cosine at least this. */
  readonly similarMinCosine: number;
}

export interface RepostVerdict {
  readonly verdict: Verdict;
  /** The stored image the verdict is about (the best candidate), or null when there is none. */
  readonly match: (Omit<Match, "vector"> & { readonly hamming: number; readonly flipped: boolean }) | null;
}

const RANK: Record<Verdict, number> = { exact: 3, "near-duplicate": 2, similar: 1, new: 0 };

export interface CandidateEvidence {
  readonly score: number;
  /** pHash Hamming distance (0–64). */
  readonly hamming: number;
  readonly dhashHamming: number;
  /** The query's mirror image matched better than the query itself. */
  readonly flipped: boolean;
}

/** Cosine against the query or its mirror image (whichever is closer), and both hash distances. */
export function evidence(query: Fingerprint, candidate: Match): CandidateEvidence {
  let score = candidate.score;
  let flipped = false;
  if (query.flippedVector && candidate.vector) {
    const mirrored = cosine(query.flippedVector, candidate.vector);
    if (mirrored > score) {
      score = mirrored;
      flipped = true;
    }
  }
  return {
    score,
    hamming: hamming(query.phash, candidate.phash),
    dhashHamming: hamming(query.dhash, candidate.dhash),
    flipped,
  };
}

export function classify(e: CandidateEvidence, t: RepostThresholds): Verdict {
  const sameHashes = e.hamming <= t.exactMaxPhash && e.dhashHamming <= t.exactMaxDhash;
  if (!e.flipped && sameHashes && e.score >= t.exactMinCosine) return "exact";
  if (e.score >= t.nearMinCosine) return "near-duplicate";
  if (!e.flipped && e.hamming <= t.hashNearMaxPhash && e.score >= t.hashNearMinCosine) return "near-duplicate";
  if (e.score >= t.similarMinCosine) return "similar";
  return "new";
}

/** The strongest verdict over the candidates; ties go to the higher cosine. */
export function judge(
  query: Fingerprint,
  candidates: readonly Match[],
  thresholds: RepostThresholds,
): RepostVerdict {
  let best: RepostVerdict = { verdict: "new", match: null };
  let bestScore = -Infinity;
  for (const candidate of candidates) {
    const e = evidence(query, candidate);
    const verdict = classify(e, thresholds);
    const better = RANK[verdict] > RANK[best.verdict] || (RANK[verdict] === RANK[best.verdict] && e.score > bestScore);
    if (better) {
      const { vector: _vector, ...stored } = candidate;
      best = { verdict, match: { ...stored, score: e.score, hamming: e.hamming, flipped: e.flipped } };
      bestScore = e.score;
    }
  }
  return best;
}
