/**
 * The fused verdict's inputs, gathered in memory exactly as the engine gathers them: the 10 nearest
 * stored vectors to each view of the query (as given, mirrored, centre square), merged, and for each the
 * library's own `evidence()` (cosine or mirrored cosine, pHash and dHash distances), with the
 * decision score taken in the whitened space when whitened rows are given (as the engine does once
 * a collection has learned its whitening). Threshold sweeps then only re-run `classify()` over
 * these lists; the shipped numbers come from the engine.
 */
import type { Fingerprint } from "../../src/retrieval/fingerprint.ts";
import { type CandidateEvidence, evidence, queryViews } from "../../src/retrieval/reposts.ts";
import type { Match } from "../../src/retrieval/store/schema.ts";
import { dot } from "../../src/retrieval/vectors.ts";
import { type Matrix, rowOf } from "../lib/matrix.ts";
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

/** Query rows per view, as a Fingerprint holds them (as given; mirrored; centre square; centre mirrored). */
export interface QueryRows {
  readonly vector: Matrix;
  readonly flipped?: Matrix;
  readonly centre?: Matrix;
  readonly centreFlipped?: Matrix;
}

/** Row `q` of every view, as the Fingerprint the engine would have for that image. */
export function fingerprintOf(rows: QueryRows, q: number, hashes: HashPair): Fingerprint {
  const view = (m: Matrix | undefined) => m && rowOf(m, q);
  return {
    vector: rowOf(rows.vector, q),
    flippedVector: view(rows.flipped),
    centreVector: view(rows.centre),
    centreFlippedVector: view(rows.centreFlipped),
    ...hashes,
    width: 0,
    height: 0,
  };
}

/** The same rows after the collection's whitening (unit length): the space verdicts are decided in. */
export interface WhitenedRows {
  readonly stored: Matrix;
  readonly queries: QueryRows;
}

export async function gatherEvidence(
  stored: Matrix,
  storedHashes: readonly HashPair[],
  queries: QueryRows,
  queryHashes: readonly HashPair[],
  skip: readonly ReadonlySet<number>[],
  whitened?: WhitenedRows,
): Promise<Candidate[][]> {
  const viewRows = [queries.vector, queries.flipped, queries.centre, queries.centreFlipped].filter((m): m is Matrix => m !== undefined);
  const [direct, ...others] = await Promise.all(viewRows.map((m) => nearest(m, stored, CANDIDATES, { skip })));
  return direct!.map((list, q) => {
    const query = fingerprintOf(queries, q, queryHashes[q]!);
    const decisionViews = whitened && queryViews(fingerprintOf(whitened.queries, q, queryHashes[q]!));
    // Union by stored row; a hit found by another view only carries its cosine with the query as given (engine.candidates).
    const rows = new Map<number, number>(list.map((r) => [r.index, r.score]));
    for (const view of others)
      for (const r of view[q]!) if (!rows.has(r.index)) rows.set(r.index, dot(query.vector, rowOf(stored, r.index)));
    return [...rows].map(([index, score]) => {
      const match: Match = {
        id: String(index),
        collection: "bench",
        source: "",
        width: 0,
        height: 0,
        ...storedHashes[index]!,
        score,
        vector: rowOf(stored, index),
      };
      const decision = decisionViews && { views: decisionViews, candidate: rowOf(whitened.stored, index) };
      return { index, ...evidence(query, match, decision) };
    });
  });
}
