/**
 * The fused verdict's inputs, gathered in memory exactly as the engine gathers them: the 10 nearest
 * stored vectors to the query and the 10 nearest to its mirror image, merged, and for each the
 * library's own `evidence()` (cosine or mirrored cosine, pHash and dHash distances), with the
 * decision score taken in the whitened space when whitened rows are given (as the engine does once
 * a collection has learned its whitening). Threshold sweeps then only re-run `classify()` over
 * these lists; the shipped numbers come from the engine.
 */
import type { Fingerprint } from "../../src/retrieval/fingerprint.ts";
import { evidence, type CandidateEvidence } from "../../src/retrieval/reposts.ts";
import { dot } from "../../src/retrieval/pooling.ts";
import type { Match } from "../../src/retrieval/store.ts";
import { rowOf, type Matrix } from "../lib/matrix.ts";
import { nearest } from "../lib/ranking.ts";

/** As the engine's checkRepost default. */
export const CANDIDATES = 10;

export interface Candidate extends CandidateEvidence {
  /** Row of the stored image. */
  readonly index: number;
}

export interface HashPair {
  readonly phash: bigint;
  readonly dhash: bigint;
}

/** The same rows after the collection's whitening (unit length): the space verdicts are decided in. */
export interface WhitenedRows {
  readonly stored: Matrix;
  readonly queries: Matrix;
  readonly mirrored: Matrix;
}

export async function gatherEvidence(
  stored: Matrix,
  storedHashes: readonly HashPair[],
  queries: Matrix,
  mirrored: Matrix,
  queryHashes: readonly HashPair[],
  skip: readonly ReadonlySet<number>[],
  whitened?: WhitenedRows,
): Promise<Candidate[][]> {
  const [direct, flipped] = await Promise.all([
    nearest(queries, stored, CANDIDATES, { skip }),
    nearest(mirrored, stored, CANDIDATES, { skip }),
  ]);
  return direct.map((list, q) => {
    const query: Fingerprint = { vector: rowOf(queries, q), flippedVector: rowOf(mirrored, q), ...queryHashes[q]!, width: 0, height: 0 };
    // Union by stored row; a mirrored-only hit carries its cosine with the query as given (engine.candidates).
    const rows = new Map<number, number>(list.map((r) => [r.index, r.score]));
    for (const r of flipped[q]!) if (!rows.has(r.index)) rows.set(r.index, dot(rowOf(queries, q), rowOf(stored, r.index)));
    return [...rows].map(([index, score]) => {
      const match: Match = { id: String(index), collection: "bench", source: "", width: 0, height: 0, ...storedHashes[index]!, score, vector: rowOf(stored, index) };
      const decision = whitened && {
        query: rowOf(whitened.queries, q),
        flippedQuery: rowOf(whitened.mirrored, q),
        candidate: rowOf(whitened.stored, index),
      };
      return { index, ...evidence(query, match, decision) };
    });
  });
}
