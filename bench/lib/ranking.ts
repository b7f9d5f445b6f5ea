/** Similarity matrices, computed in blocks of query rows, and their best entries per row. */
import { type Matrix, multiplyTransposed } from "./matrix.ts";

export interface Ranked {
  readonly index: number;
  readonly score: number;
}

/** Query rows per block: 1024 × 7,000 stored vectors is 28 MB of scores at a time. */
const BLOCK = 1024;

function rowsOf(m: Matrix, start: number, count: number): Matrix {
  return { rows: count, cols: m.cols, data: m.data.subarray(start * m.cols, (start + count) * m.cols) };
}

/**
 * Visits the cosine of every query with every stored vector (rows are unit vectors), one block of
 * query rows at a time. With `mirrored` (the queries' flipped images), each entry is the better of
 * the two, as in the engine's flip-aware search.
 */
export async function forEachSimilarityBlock(
  queries: Matrix,
  stored: Matrix,
  mirrored: Matrix | undefined,
  visit: (sim: Matrix, firstRow: number) => void,
): Promise<void> {
  for (let start = 0; start < queries.rows; start += BLOCK) {
    const count = Math.min(BLOCK, queries.rows - start);
    const sim = await multiplyTransposed(rowsOf(queries, start, count), stored);
    if (mirrored) {
      const flipped = await multiplyTransposed(rowsOf(mirrored, start, count), stored);
      for (let i = 0; i < sim.data.length; i++) if (flipped.data[i]! > sim.data[i]!) sim.data[i] = flipped.data[i]!;
    }
    visit(sim, start);
  }
}

/** The k best entries of row `row`, best first, skipping columns `skip` says to. */
export function topK(sim: Matrix, row: number, k: number, skip?: (column: number) => boolean): Ranked[] {
  const base = row * sim.cols;
  const best: Ranked[] = [];
  for (let j = 0; j < sim.cols; j++) {
    const score = sim.data[base + j]!;
    if (best.length === k && score <= best[k - 1]!.score) continue;
    if (skip?.(j)) continue;
    let at = best.length;
    while (at > 0 && best[at - 1]!.score < score) at--;
    best.splice(at, 0, { index: j, score });
    if (best.length > k) best.pop();
  }
  return best;
}

/** Each query's k best stored rows (skipping, per query, the columns in `skip[q]`). */
export async function nearest(
  queries: Matrix,
  stored: Matrix,
  k: number,
  options: { mirrored?: Matrix; skip?: readonly (ReadonlySet<number> | undefined)[] } = {},
): Promise<Ranked[][]> {
  const out: Ranked[][] = new Array(queries.rows);
  await forEachSimilarityBlock(queries, stored, options.mirrored, (sim, first) => {
    for (let r = 0; r < sim.rows; r++) {
      const skip = options.skip?.[first + r];
      out[first + r] = topK(sim, r, k, skip ? (j) => skip.has(j) : undefined);
    }
  });
  return out;
}
