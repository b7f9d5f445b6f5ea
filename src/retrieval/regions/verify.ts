/**
 * Spatial verification: does the query show the stored picture cell by cell, in the same layout?
 * Cells are matched by mutual nearest neighbours (each is the other's closest), then the largest set
 * of matches agreeing on one scale + rotation + translation is counted (rotations up to MAX_ANGLE:
 * reposts are upright or tilted a little). Two photos of the same subject match many cells one by
 * one, but not in one consistent layout; a copy does. Pure arithmetic over `CellSet`s (parts.ts).
 */
import type { TransposedProduct } from "../vectors.ts";
import { CELL_DIMENSION, type CellSet } from "./parts.ts";

export interface Verification {
  /** Matches consistent with the best scale + translation, over every pairing of cell sets. */
  readonly inliers: number;
  /** The same per query cell set (in the order given): how well each of the query's grids lines up. */
  readonly bySet: readonly SetVerification[];
  /**
   * Per query cell set (in the order given), its pairing with the stored image's first set (its fine
   * cells), always computed: lineup.ts counts them under one layout.
   */
  readonly withFirst: readonly Pairing[];
}

/** A query set's mutual matches with one stored set, and the model that lines most of them up (bestModel). */
export interface Pairing {
  readonly matches: readonly [number, number][];
  readonly model?: CellModel;
}

/** A query cell set's best pairing with one of the stored image's sets. */
export interface SetVerification {
  /** Matches consistent with the best scale + translation. */
  readonly inliers: number;
  /** The pairing's other mutual matches, which that model does not explain. */
  readonly strays: number;
}

/**
 * The dot product of every query cell with every stored cell (their codes; cells are unit vectors
 * times 127, so this orders pairs by cosine): `rows` query cells (the sets' cells one set after the
 * other) × `columns` stored cells, row-major. Integers below 2²⁴, so exact in float32 whoever
 * computes them: `scoreCells` here, or the inference worker (Embedder.scoreCells), which does the
 * same products vectorised in native code, off this thread.
 */
export interface CellScores {
  readonly rows: number;
  readonly columns: number;
  readonly values: Float32Array;
}

/** Computes the scores of `query` cells against `stored` cells somewhere else (e.g. the inference worker). */
export type CellScorer = (query: readonly CellSet[], stored: readonly CellSet[]) => Promise<CellScores>;

const cellCount = (set: CellSet) => set.width * set.height;

/** The cells of all the sets together: their rows (query) or columns (stored) in CellScores. */
export const totalCells = (sets: readonly CellSet[]): number => sets.reduce((sum, set) => sum + cellCount(set), 0);

/** Every cell of the sets, one after the other, as float rows of CELL_DIMENSION values. */
function stacked(sets: readonly CellSet[]): Float32Array {
  const out = new Float32Array(sets.reduce((sum, set) => sum + set.codes.length, 0));
  let at = 0;
  for (const set of sets) {
    out.set(set.codes, at);
    at += set.codes.length;
  }
  return out;
}

/** A CellScorer on a matrix product computed elsewhere (Embedder.scores: the inference worker). */
export function remoteCellScorer(product: TransposedProduct): CellScorer {
  return async (query, stored) => {
    const rows = totalCells(query);
    const columns = totalCells(stored);
    if (rows === 0 || columns === 0) return { rows, columns, values: new Float32Array(0) };
    return { rows, columns, values: await product(stacked(query), stacked(stored), CELL_DIMENSION) };
  };
}

/** Every query cell against every stored cell, in this thread. */
export function scoreCells(query: readonly CellSet[], stored: readonly CellSet[]): CellScores {
  const rows = totalCells(query);
  const columns = totalCells(stored);
  const values = new Float32Array(rows * columns);
  let row = 0;
  for (const a of query) {
    for (let i = 0; i < cellCount(a); i++, row++) {
      let column = 0;
      for (const b of stored) {
        for (let j = 0; j < cellCount(b); j++, column++) {
          values[row * columns + column] = codeDot(a.codes, i * CELL_DIMENSION, b.codes, j * CELL_DIMENSION);
        }
      }
    }
  }
  return { rows, columns, values };
}

/**
 * Pairs (query cell, stored cell) that are each other's nearest neighbour by cosine, between query
 * set `a` and stored set `b`; `scores` holds them from `rowStart` and `columnStart` (default: just
 * these two sets, scored here).
 */
export function mutualMatches(
  a: CellSet,
  b: CellSet,
  scores: CellScores = scoreCells([a], [b]),
  rowStart = 0,
  columnStart = 0,
): [number, number][] {
  const n = cellCount(a);
  const m = cellCount(b);
  const { columns, values } = scores;
  const bestForA = new Int32Array(n).fill(-1);
  const scoreForA = new Float64Array(n).fill(-Infinity);
  const bestForB = new Int32Array(m).fill(-1);
  const scoreForB = new Float64Array(m).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    const at = (rowStart + i) * columns + columnStart;
    for (let j = 0; j < m; j++) {
      const s = values[at + j]!;
      if (s > scoreForA[i]!) {
        scoreForA[i] = s;
        bestForA[i] = j;
      }
      if (s > scoreForB[j]!) {
        scoreForB[j] = s;
        bestForB[j] = i;
      }
    }
  }
  const pairs: [number, number][] = [];
  for (let i = 0; i < n; i++) if (bestForA[i]! >= 0 && bestForB[bestForA[i]!] === i) pairs.push([i, bestForA[i]!]);
  return pairs;
}

/**
 * The dot product of two cells' codes, four lanes at a time: the innermost loop of a verification
 * (query cells × stored cells × CELL_DIMENSION per candidate), which V8 does not vectorise itself.
 */
function codeDot(a: Int8Array, ai: number, b: Int8Array, bj: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let p = 0; p < CELL_DIMENSION; p += 4) {
    s0 += a[ai + p]! * b[bj + p]!;
    s1 += a[ai + p + 1]! * b[bj + p + 1]!;
    s2 += a[ai + p + 2]! * b[bj + p + 2]!;
    s3 += a[ai + p + 3]! * b[bj + p + 3]!;
  }
  return s0 + s1 + s2 + s3;
}

/** Scales (stored cells per query cell) a copy may plausibly be shown at between two cell sets. */
const MIN_SCALE = 0.35;
const MAX_SCALE = 2.8;
/** Two matches must be at least this far apart (query cells) to fix a scale. */
const MIN_SPAN = 1.5;
/**
 * Largest rotation a model may have (radians). With scale + translation only, a picture tilted by
 * 8–15° lined up too few cells away from the centre. With 20° allowed, the renderings bench found
 * rotated reposts 64.2 → 73.6 % (fit split) and 80.0 → 88.9 % (test split), one crop fewer on the fit
 * split, every other kind and the false reposts unchanged (bench/RESULTS.md, renderings).
 */
const MAX_ANGLE = (20 * Math.PI) / 180;
/** Slack on the inlier distance so that exact ties count in (see consistentMatches). */
export const TIE_EPSILON = 1e-9;

/** stored = (c, −s; s, c) · query + (tx, ty), in cells of the two sets: a scale, a rotation and a shift. */
export interface CellModel {
  readonly c: number;
  readonly s: number;
  readonly tx: number;
  readonly ty: number;
}

/**
 * The most matches one scale + rotation + translation explains: every pair of matches proposes a
 * model (their distance ratio is the scale, the angle between them the rotation), and each model
 * counts the matches landing within a cell of where it puts them. Exhaustive over pairs: a mutual-NN
 * match list is short (tens), so this is exact and fast.
 */
export function consistentMatches(a: CellSet, b: CellSet, matches: readonly [number, number][]): number {
  return bestModel(a, b, matches).inliers;
}

/** consistentMatches' count, with the model that explains them (none when no pair proposes one). */
export function bestModel(a: CellSet, b: CellSet, matches: readonly [number, number][]): { inliers: number; model?: CellModel } {
  const ax = matches.map(([i]) => (i % a.width) + 0.5);
  const ay = matches.map(([i]) => Math.floor(i / a.width) + 0.5);
  const bx = matches.map(([, j]) => (j % b.width) + 0.5);
  const by = matches.map(([, j]) => Math.floor(j / b.width) + 0.5);
  let best = Math.min(1, matches.length);
  let model: CellModel | undefined;
  for (let p = 0; p < matches.length; p++) {
    for (let q = p + 1; q < matches.length; q++) {
      const dax = ax[q]! - ax[p]!;
      const day = ay[q]! - ay[p]!;
      const dbx = bx[q]! - bx[p]!;
      const dby = by[q]! - by[p]!;
      const spanA = Math.hypot(dax, day);
      const spanB = Math.hypot(dbx, dby);
      if (spanA < MIN_SPAN || spanB === 0) continue;
      const scale = spanB / spanA;
      const angle = Math.atan2(dax * dby - day * dbx, dax * dbx + day * dby);
      if (scale < MIN_SCALE || scale > MAX_SCALE || Math.abs(angle) > MAX_ANGLE) continue;
      // stored = scale · rotation · query + translation
      const c = scale * Math.cos(angle);
      const s = scale * Math.sin(angle);
      const tx = bx[p]! - (c * ax[p]! - s * ay[p]!);
      const ty = by[p]! - (s * ax[p]! + c * ay[p]!);
      // A match exactly one tolerance away (cells sit on a lattice, so this is common) counts in
      // whatever the rounding of the trigonometry: ties decided by the last bit made counts differ
      // between two equivalent ways of writing this model (334 of 16,344 candidates, renderings bench).
      const tolerance = Math.max(1, scale) + TIE_EPSILON;
      // A model is dropped as soon as it has missed too many matches to beat the best: most models
      // (a pair of matches that are not both right) miss nearly all, so this skips most of the
      // work (the count is cubic in the matches) and the best count stays exact.
      const maxMisses = matches.length - best;
      let count = 0;
      let misses = 0;
      for (let k = 0; k < matches.length && misses < maxMisses; k++) {
        if (Math.hypot(c * ax[k]! - s * ay[k]! + tx - bx[k]!, s * ax[k]! + c * ay[k]! + ty - by[k]!) <= tolerance) count++;
        else misses++;
      }
      if (count > best) {
        best = count;
        model = { c, s, tx, ty };
      }
    }
  }
  return { inliers: best, model };
}

/**
 * The best verification over every pairing of the query's cell sets with the stored image's, and
 * the best per query set. `scores` are the query cells against the stored cells (scoreCells), which
 * may sit among other stored images' columns from `columnStart`.
 */
export function verify(
  query: readonly CellSet[],
  stored: readonly CellSet[],
  scores: CellScores = scoreCells(query, stored),
  columnStart = 0,
): Verification {
  const bySet: SetVerification[] = [];
  const withFirst: Pairing[] = [];
  let rowStart = 0;
  for (const a of query) {
    let best: SetVerification = { inliers: 0, strays: 0 };
    let column = columnStart;
    for (const [k, b] of stored.entries()) {
      // A pairing that cannot beat this set's best is skipped (mutual matches are at most the smaller
      // set's cells); the first stored set (the fine cells) never is: lineup.ts counts every query
      // set's pairing with it.
      const first = k === 0;
      if (first || Math.min(cellCount(a), cellCount(b)) > best.inliers) {
        const matches = mutualMatches(a, b, scores, rowStart, column);
        if (first || matches.length > best.inliers) {
          const { inliers, model } = bestModel(a, b, matches);
          if (first) withFirst.push({ matches, model });
          if (inliers > best.inliers) best = { inliers, strays: matches.length - inliers };
        }
      }
      column += cellCount(b);
    }
    bySet.push(best);
    rowStart += cellCount(a);
  }
  return { inliers: Math.max(0, ...bySet.map((set) => set.inliers)), bySet, withFirst };
}
