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
  /**
   * The stored image the verdict is about (the best candidate), or null when there is none.
   * `score` is the plain cosine (as search reports it); `decisionScore` is the cosine the
   * thresholds were applied to (in the collection's whitened space once it has one).
   */
  readonly match: (Omit<Match, "vector"> & { readonly hamming: number; readonly flipped: boolean; readonly decisionScore: number }) | null;
  /** The metric the verdict was decided in: plain cosine, or cosine after the collection's whitening. */
  readonly space: DecisionSpace;
}

export type DecisionSpace = "raw" | "whitened";

const RANK: Record<Verdict, number> = { exact: 3, "near-duplicate": 2, similar: 1, new: 0 };

export interface CandidateEvidence {
  /** The cosine the thresholds apply to: plain, or whitened (against the query or its mirror image). */
  readonly score: number;
  /** The plain cosine (against the query or its mirror image, whichever is closer). */
  readonly cosine: number;
  /** pHash Hamming distance (0–64). */
  readonly hamming: number;
  readonly dhashHamming: number;
  /** The query's mirror image matched better than the query itself (in the decision space). */
  readonly flipped: boolean;
}

/** Query and candidate vectors in another metric space (e.g. whitened), unit length. */
export interface DecisionVectors {
  readonly query: Float32Array;
  readonly flippedQuery?: Float32Array;
  readonly candidate: Float32Array;
}

/** The better of a cosine against the query and against its mirror image. */
function bestOf(vector: Float32Array, flipped: Float32Array | undefined, candidate: Float32Array, direct?: number) {
  const score = direct ?? cosine(vector, candidate);
  const mirrored = flipped ? cosine(flipped, candidate) : -Infinity;
  return mirrored > score ? { score: mirrored, flipped: true } : { score, flipped: false };
}

/**
 * Cosine against the query or its mirror image (whichever is closer), in plain space and, when
 * `decision` vectors are given, in that space too; and both hash distances.
 */
export function evidence(query: Fingerprint, candidate: Match, decision?: DecisionVectors): CandidateEvidence {
  const plain = candidate.vector
    ? bestOf(query.vector, query.flippedVector, candidate.vector, candidate.score)
    : { score: candidate.score, flipped: false };
  const decided = decision ? bestOf(decision.query, decision.flippedQuery, decision.candidate) : plain;
  return {
    score: decided.score,
    cosine: plain.score,
    hamming: hamming(query.phash, candidate.phash),
    dhashHamming: hamming(query.dhash, candidate.dhash),
    flipped: decided.flipped,
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

/** Maps a unit vector into the decision space (e.g. the collection's whitening). */
export type Projection = (vector: Float32Array) => Float32Array;

/**
 * The strongest verdict over the candidates; ties go to the higher decision score. With a
 * projection the cosines the thresholds see are taken after it (the candidates need vectors).
 */
export function judge(
  query: Fingerprint,
  candidates: readonly Match[],
  thresholds: RepostThresholds,
  projection?: Projection,
): RepostVerdict {
  const space: DecisionSpace = projection ? "whitened" : "raw";
  const projectedQuery = projection && { query: projection(query.vector), flippedQuery: query.flippedVector && projection(query.flippedVector) };
  let best: RepostVerdict = { verdict: "new", match: null, space };
  let bestScore = -Infinity;
  for (const candidate of candidates) {
    const decision = projectedQuery && candidate.vector ? { ...projectedQuery, candidate: projection(candidate.vector) } : undefined;
    const e = evidence(query, candidate, decision);
    const verdict = classify(e, thresholds);
    const better = RANK[verdict] > RANK[best.verdict] || (RANK[verdict] === RANK[best.verdict] && e.score > bestScore);
    if (better) {
      const { vector: _vector, ...stored } = candidate;
      best = { verdict, space, match: { ...stored, score: e.cosine, decisionScore: e.score, hamming: e.hamming, flipped: e.flipped } };
      bestScore = e.score;
    }
  }
  return best;
}
