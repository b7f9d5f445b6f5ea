/** Retrieval metrics over one similarity row; ties count against the query (pessimistic). */
import type { Matrix } from "./matrix.ts";
import { topK } from "./ranking.ts";
import type { Scorer } from "./scorers.ts";

/**
 * Average precision of row `row` given which columns are relevant, over all columns except the
 * skipped ones: for the i-th best relevant item at rank r_i, precision i / r_i, averaged.
 * Ranks come from one sort of the row (no per-query argsort of indices needed).
 */
export function averagePrecision(sim: Matrix, row: number, relevant: readonly number[], skip: readonly number[] = []): number {
  if (relevant.length === 0) return 0;
  const base = row * sim.cols;
  const skipped = new Set(skip);
  const scores = new Float32Array(sim.cols - skipped.size);
  let n = 0;
  for (let j = 0; j < sim.cols; j++) if (!skipped.has(j)) scores[n++] = sim.data[base + j]!;
  scores.sort(); // ascending
  const relevantScores = relevant.map((j) => sim.data[base + j]!).sort((a, b) => b - a);
  let sum = 0;
  relevantScores.forEach((score, i) => {
    // Rank = 1 + items scoring at least as high, other than itself (ties pessimistic).
    const rank = scores.length - lowerBound(scores, score);
    sum += (i + 1) / Math.max(rank, i + 1);
  });
  return sum / relevant.length;
}

/** First index in ascending `a` whose value is >= x. */
function lowerBound(a: Float32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const mean = (values: readonly number[]): number => (values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length);

export interface InstanceScores {
  readonly top1: number;
  readonly top5: number;
  readonly map: number;
  /** Per query: rank-1 stored row and whether it is the relevant one. */
  readonly firsts: readonly { readonly index: number; readonly score: number; readonly correct: boolean }[];
}

/** Instance retrieval, one relevant stored row per query (museum, peer fixtures). */
export async function instanceMetrics(scorer: Scorer, relevant: readonly number[]): Promise<InstanceScores> {
  let top1 = 0;
  let top5 = 0;
  const aps: number[] = [];
  const firsts: InstanceScores["firsts"][number][] = [];
  await scorer.visit((sim, first) => {
    for (let r = 0; r < sim.rows; r++) {
      const target = relevant[first + r]!;
      const best = topK(sim, r, 5);
      const rank = best.findIndex((b) => b.index === target);
      // Ties count against the query: the target must beat every other row, not just equal it.
      const tiedAbove = best.some((b, i) => i !== rank && b.score >= sim.data[r * sim.cols + target]!);
      if (rank === 0 && !tiedAbove) top1++;
      if (rank >= 0) top5++;
      aps.push(averagePrecision(sim, r, [target]));
      firsts.push({ index: best[0]!.index, score: best[0]!.score, correct: rank === 0 && !tiedAbove });
    }
  });
  const n = relevant.length;
  return { top1: top1 / n, top5: top5 / n, map: mean(aps), firsts };
}

export interface CategoryScores {
  readonly precisionAt10: number;
  readonly map: number;
}

/** Leave-one-out category retrieval: every stored image queries all the others. */
export async function categoryMetrics(scorer: Scorer, labels: readonly string[]): Promise<CategoryScores> {
  const byLabel = new Map<string, number[]>();
  labels.forEach((label, i) => byLabel.set(label, [...(byLabel.get(label) ?? []), i]));
  const precisions: number[] = [];
  const aps: number[] = [];
  await scorer.visit((sim, first) => {
    for (let r = 0; r < sim.rows; r++) {
      const self = first + r;
      const label = labels[self]!;
      const best = topK(sim, r, 10, (j) => j === self);
      precisions.push(best.filter((b) => labels[b.index] === label).length / 10);
      aps.push(
        averagePrecision(
          sim,
          r,
          byLabel.get(label)!.filter((j) => j !== self),
          [self],
        ),
      );
    }
  });
  return { precisionAt10: mean(precisions), map: mean(aps) };
}
