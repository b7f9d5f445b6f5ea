/**
 * Repost verdicts: fuse the CNN's cosine (robust to crops, captions, screenshots, colour changes)
 * with perceptual-hash distance (precise for re-encodes and resizes of the very same pixels).
 * Pure functions over candidates already retrieved by vector search.
 */
import type { Fingerprint } from "./fingerprint.ts";
import { hamming } from "./hashes.ts";
import type { Match } from "./store/schema.ts";
import { cosine } from "./vectors.ts";

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
  /** The cosine the thresholds apply to, plain or whitened, of the query view closest to the candidate. */
  readonly score: number;
  /** The plain cosine of the query view closest to the candidate. */
  readonly cosine: number;
  /** pHash Hamming distance (0–64). */
  readonly hamming: number;
  readonly dhashHamming: number;
  /** A mirrored view of the query matched best (in the decision space). */
  readonly flipped: boolean;
}

/** One way of looking at the query: as given, mirrored, or its centre square (and that mirrored). */
export interface QueryView {
  readonly vector: Float32Array;
  readonly mirrored: boolean;
}

/** The query's views in a fixed order (as given, mirrored, centre, centre mirrored), those it has. */
export function queryViews(query: Fingerprint): QueryView[] {
  const views: QueryView[] = [{ vector: query.vector, mirrored: false }];
  if (query.flippedVector) views.push({ vector: query.flippedVector, mirrored: true });
  if (query.centreVector) views.push({ vector: query.centreVector, mirrored: false });
  if (query.centreFlippedVector) views.push({ vector: query.centreFlippedVector, mirrored: true });
  return views;
}

/** The query views and the candidate in another metric space (e.g. whitened), same order as queryViews. */
export interface DecisionVectors {
  readonly views: readonly QueryView[];
  readonly candidate: Float32Array;
}

/** The closest view's cosine with the candidate, and whether that view is mirrored. */
function bestView(views: readonly QueryView[], candidate: Float32Array): { score: number; flipped: boolean } {
  let best = { score: -Infinity, flipped: false };
  for (const view of views) {
    const score = cosine(view.vector, candidate);
    if (score > best.score) best = { score, flipped: view.mirrored };
  }
  return best;
}

/**
 * The closest of the query's views (as given, mirrored, centre square), by plain cosine and, when
 * `decision` vectors are given, in that space too; and both hash distances.
 */
export function evidence(query: Fingerprint, candidate: Match, decision?: DecisionVectors): CandidateEvidence {
  const plain = candidate.vector ? bestView(queryViews(query), candidate.vector) : { score: candidate.score, flipped: false };
  const decided = decision ? bestView(decision.views, decision.candidate) : plain;
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
  const projectedViews = projection && queryViews(query).map((view) => ({ ...view, vector: projection(view.vector) }));
  let best: RepostVerdict = { verdict: "new", match: null, space };
  let bestScore = -Infinity;
  for (const candidate of candidates) {
    const decision = projectedViews && candidate.vector ? { views: projectedViews, candidate: projection(candidate.vector) } : undefined;
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
