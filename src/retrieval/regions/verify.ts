/**
 * Spatial verification: does the query show the stored picture cell by cell, in the same layout?
 * Cells are matched by mutual nearest neighbours (each is the other's closest), then the largest set
 * of matches agreeing on one scale + rotation + translation is counted (rotations up to MAX_ANGLE:
 * reposts are upright or tilted a little). Two photos of the same subject match many cells one by
 * one, but not in one consistent layout; a copy does. Pure arithmetic over `CellSet`s (parts.ts).
 */
import { CELL_DIMENSION, type CellSet } from "./parts.ts";

export interface Verification {
  /** Matches consistent with the best scale + translation. */
  readonly inliers: number;
}

/** Pairs (query cell, stored cell) that are each other's nearest neighbour by cosine. */
export function mutualMatches(a: CellSet, b: CellSet): [number, number][] {
  const n = a.width * a.height;
  const m = b.width * b.height;
  const bestForA = new Int32Array(n).fill(-1);
  const scoreForA = new Float64Array(n).fill(-Infinity);
  const bestForB = new Int32Array(m).fill(-1);
  const scoreForB = new Float64Array(m).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    const ai = i * CELL_DIMENSION;
    for (let j = 0; j < m; j++) {
      const bj = j * CELL_DIMENSION;
      const s = codeDot(a.codes, ai, b.codes, bj);
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
const TIE_EPSILON = 1e-9;

/**
 * The most matches one scale + rotation + translation explains: every pair of matches proposes a
 * model (their distance ratio is the scale, the angle between them the rotation), and each model
 * counts the matches landing within a cell of where it puts them. Exhaustive over pairs: a mutual-NN
 * match list is short (tens), so this is exact and fast.
 */
export function consistentMatches(a: CellSet, b: CellSet, matches: readonly [number, number][]): number {
  const ax = matches.map(([i]) => (i % a.width) + 0.5);
  const ay = matches.map(([i]) => Math.floor(i / a.width) + 0.5);
  const bx = matches.map(([, j]) => (j % b.width) + 0.5);
  const by = matches.map(([, j]) => Math.floor(j / b.width) + 0.5);
  let best = Math.min(1, matches.length);
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
      let count = 0;
      for (let k = 0; k < matches.length; k++) {
        if (Math.hypot(c * ax[k]! - s * ay[k]! + tx - bx[k]!, s * ax[k]! + c * ay[k]! + ty - by[k]!) <= tolerance) count++;
      }
      if (count > best) best = count;
    }
  }
  return best;
}

/** The best verification over every pairing of the query's cell sets with the stored image's. */
export function verify(query: readonly CellSet[], stored: readonly CellSet[]): Verification {
  let inliers = 0;
  for (const a of query) {
    for (const b of stored) {
      const matches = mutualMatches(a, b);
      if (matches.length <= inliers) continue; // cannot beat the best so far
      inliers = Math.max(inliers, consistentMatches(a, b, matches));
    }
  }
  return { inliers };
}
