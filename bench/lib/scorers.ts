/**
 * A contender, seen from the evaluation: something that can produce, block by block, a similarity
 * score (higher = more alike) between every query and every stored image. Metrics and verdict
 * calibration are written once against this, so every contender is measured by the same code.
 */

import { dot } from "../../src/retrieval/vectors.ts";
import type { Whitening, WhiteningOptions } from "../../src/retrieval/whitening.ts";
import { type Bits, hammingBits } from "../contenders/hashes.ts";
import { type Matrix, matrixOf, rowOf } from "./matrix.ts";
import { forEachSimilarityBlock, nearest, type Ranked, topK } from "./ranking.ts";
import type { ExpansionOptions } from "./rerank.ts";
import { expand } from "./rerank.ts";
import { expandRows, fitWhiteningOn, normalizeRows, whitenRows } from "./vectors.ts";

export type Visitor = (sim: Matrix, firstRow: number) => void;

export interface Scorer {
  readonly queries: number;
  visit(visitor: Visitor): Promise<void>;
}

/** Plain JS scoring, one query row at a time (hashes, histograms): a linear scan per query. */
function rowScorer(queries: number, stored: number, score: (q: number, s: number) => number): Scorer {
  const BLOCK = 256;
  return {
    queries,
    async visit(visitor) {
      for (let first = 0; first < queries; first += BLOCK) {
        const rows = Math.min(BLOCK, queries - first);
        const data = new Float32Array(rows * stored);
        for (let r = 0; r < rows; r++) for (let s = 0; s < stored; s++) data[r * stored + s] = score(first + r, s);
        visitor({ rows, cols: stored, data }, first);
      }
    },
  };
}

/** Hash contenders: similarity = −Hamming distance, so "higher is more alike" holds for all. */
export const hashScorer = (queries: readonly Bits[], stored: readonly Bits[]): Scorer =>
  rowScorer(queries.length, stored.length, (q, s) => -hammingBits(queries[q]!, stored[s]!));

/**
 * The seed's scores: for centred, unit-length channel histograms, mean Pearson correlation is a dot
 * product over 768 values divided by 3 (histogramCorrelation), so the matrix kernel computes exactly
 * the numbers the seed's loop did, block by block; the scan for the top K stays the seed's (topK).
 */
export function histogramScorer(queries: readonly Float32Array[], stored: readonly Float32Array[]): Scorer {
  const q = matrixOf(queries);
  const s = matrixOf(stored);
  return {
    queries: q.rows,
    visit: (visitor) =>
      forEachSimilarityBlock(q, s, undefined, (sim, first) => {
        for (let i = 0; i < sim.data.length; i++) sim.data[i]! /= 3;
        visitor(sim, first);
      }),
  };
}

export interface QuerySide {
  readonly queries: Matrix;
  /** The queries' mirror images (query-time flip augmentation). */
  readonly mirrored?: Matrix;
  /** Each query's own row in the index, for leave-one-out queries. */
  readonly self?: readonly (number | undefined)[];
  /** Index rows each query's results may not contain. */
  readonly skip?: readonly (ReadonlySet<number> | undefined)[];
}

export interface CnnOptions {
  readonly whiten?: WhiteningOptions;
  /** A projection fitted elsewhere (same shape as a whitening), used instead of fitting one. */
  readonly projection?: Whitening;
  /**
   * Rows are concatenations of parts of this size (PWA): one whitening is fitted on all the parts
   * and applied to each, as a 10,240-d PCA is out of reach (its eigensolve alone is ~500× a 1,280-d one).
   */
  readonly partDimension?: number;
  readonly dba?: ExpansionOptions;
  readonly aqe?: ExpansionOptions;
}

/**
 * A CNN descriptor variant: optional PCA-whitening learned on the index, optional DBA of the index,
 * optional αQE of the queries, optional flip augmentation (max over the query and its mirror).
 *
 * Leave-one-out with DBA needs care: a stored vector augmented with the query's own vector would
 * score the query against itself. For such a query those few stored vectors are re-augmented
 * without it (from a k+1 neighbour list), so DBA gets no unfair help.
 */
export async function cnnScorer(index: Matrix, side: QuerySide, options: CnnOptions = {}): Promise<Scorer> {
  let stored = index;
  let { queries, mirrored } = side;
  if (options.whiten || options.projection) {
    const part = options.partDimension ?? index.cols;
    const w = options.projection ?? (await whiteningFor(asParts(index, part), options.whiten!));
    const whiten = async (m: Matrix) => normalizeRows(fromParts(await whitenRows(w, asParts(m, part)), m.rows));
    stored = await whiten(index);
    queries = await whiten(queries);
    if (mirrored) mirrored = await whiten(mirrored);
  }
  const patch = options.dba ? await augmentWithPatch(stored, options.dba) : undefined;
  if (patch) stored = patch.augmented;
  const visitPatched = (q: Matrix, m: Matrix | undefined, visitor: Visitor) =>
    forEachSimilarityBlock(q, stored, m, (sim, first) => {
      if (patch && side.self) patch.apply(sim, first, side.self, q, m);
      visitor(sim, first);
    });

  if (options.aqe) {
    const aqe = options.aqe;
    const neighbours: Ranked[][] = new Array(queries.rows);
    await visitPatched(queries, mirrored, (sim, first) => {
      for (let r = 0; r < sim.rows; r++) {
        const skip = side.skip?.[first + r];
        neighbours[first + r] = topK(sim, r, aqe.k, skip ? (j) => skip.has(j) : undefined);
      }
    });
    queries = expandQueries(queries, mirrored, stored, neighbours, aqe);
    mirrored = undefined; // the expanded query already faces the way its neighbours do
  }
  const finalQueries = queries;
  const finalMirrored = mirrored;
  return { queries: finalQueries.rows, visit: (visitor) => visitPatched(finalQueries, finalMirrored, visitor) };
}

/** The same numbers seen as one row per part (row-major storage makes this a free reshape). */
const asParts = (m: Matrix, part: number): Matrix => (part === m.cols ? m : { rows: (m.rows * m.cols) / part, cols: part, data: m.data });
const fromParts = (m: Matrix, rows: number): Matrix => ({ rows, cols: (m.rows * m.cols) / rows, data: m.data });

/** Fitted whitenings by stored matrix and options: re-ranking variants share one fit (an O(d³) eigensolve). */
const fitted = new WeakMap<Float32Array, Map<string, Promise<Whitening>>>();

function whiteningFor(stored: Matrix, options: WhiteningOptions): Promise<Whitening> {
  let byOptions = fitted.get(stored.data);
  if (!byOptions) fitted.set(stored.data, (byOptions = new Map()));
  const key = `${stored.cols}:${JSON.stringify(options)}`;
  let w = byOptions.get(key);
  if (!w) byOptions.set(key, (w = fitWhiteningOn(stored, options)));
  return w;
}

/** αQE: each query (turned the way its best match faces) averaged with its first-pass neighbours. */
function expandQueries(
  queries: Matrix,
  mirrored: Matrix | undefined,
  stored: Matrix,
  neighbours: Ranked[][],
  aqe: ExpansionOptions,
): Matrix {
  const oriented = { rows: queries.rows, cols: queries.cols, data: Float32Array.from(queries.data) };
  if (mirrored) {
    for (let q = 0; q < queries.rows; q++) {
      const best = neighbours[q]![0];
      if (best && dot(rowOf(mirrored, q), rowOf(stored, best.index)) > dot(rowOf(queries, q), rowOf(stored, best.index))) {
        oriented.data.set(rowOf(mirrored, q), q * queries.cols);
      }
    }
  }
  return expandRows(oriented, stored, neighbours, aqe);
}

interface DbaPatch {
  readonly augmented: Matrix;
  apply(sim: Matrix, first: number, self: readonly (number | undefined)[], queries: Matrix, mirrored: Matrix | undefined): void;
}

async function augmentWithPatch(stored: Matrix, dba: ExpansionOptions): Promise<DbaPatch> {
  const skipSelf = Array.from({ length: stored.rows }, (_, i) => new Set([i]));
  const neighbours = await nearest(stored, stored, dba.k + 1, { skip: skipSelf });
  const augmented = expandRows(
    stored,
    stored,
    neighbours.map((n) => n.slice(0, dba.k)),
    dba,
  );
  // usedBy[i]: stored rows whose augmentation includes row i.
  const usedBy: number[][] = Array.from({ length: stored.rows }, () => []);
  neighbours.forEach((list, j) => list.slice(0, dba.k).forEach(({ index }) => usedBy[index]!.push(j)));
  return {
    augmented,
    apply(sim, first, self, queries, mirrored) {
      for (let r = 0; r < sim.rows; r++) {
        const own = self[first + r];
        if (own === undefined) continue;
        for (const j of usedBy[own]!) {
          const others = neighbours[j]!.filter((n) => n.index !== own).slice(0, dba.k);
          const fair = expand(
            rowOf(stored, j),
            others.map(({ index, score }) => ({ vector: rowOf(stored, index), score })),
            dba,
          );
          let score = dot(rowOf(queries, first + r), fair);
          if (mirrored) score = Math.max(score, dot(rowOf(mirrored, first + r), fair));
          sim.data[r * sim.cols + j] = score;
        }
      }
    },
  };
}
