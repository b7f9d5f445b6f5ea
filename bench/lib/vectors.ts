/**
 * Whole-matrix versions of the vector transforms (whitening, re-ranking), fast enough for
 * thousands of rows: the arithmetic runs through matrix products, the definitions stay the
 * per-vector ones (src/retrieval/whitening.ts, bench/lib/rerank.ts), and bench tests compare both.
 */

import {
  symmetricEigen,
  type Whitening,
  type WhiteningOptions,
  whiteningFromAxes,
  whiteningFromMoments,
} from "../../src/retrieval/whitening.ts";
import { cachedWhitening } from "./fit-cache.ts";
import { gram, type Matrix, multiplyTransposed, rowOf, transpose } from "./matrix.ts";
import { nearest, type Ranked } from "./ranking.ts";
import { type ExpansionOptions, expand } from "./rerank.ts";

export function normalizeRows(m: Matrix): Matrix {
  for (let i = 0; i < m.rows; i++) {
    const row = rowOf(m, i);
    let sum = 0;
    for (const x of row) sum += x * x;
    const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let j = 0; j < row.length; j++) row[j]! *= scale;
  }
  return m;
}

/**
 * The library's whitening fitted on the rows, with the heavy products on the matrix kernel: the
 * covariance (rows > cols), or for fewer rows than dimensions the Gram matrix of the centred rows
 * and the axes Xᵀv/√(n·λ) (the "dual" PCA, as whitening.fitWhitening does in plain TS).
 */
export function fitWhiteningOn(m: Matrix, options: WhiteningOptions): Promise<Whitening> {
  return cachedWhitening(m, options, () => fit(m, options));
}

async function fit(m: Matrix, options: WhiteningOptions): Promise<Whitening> {
  const mean = new Float64Array(m.cols);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) mean[j]! += m.data[i * m.cols + j]!;
  for (let j = 0; j < m.cols; j++) mean[j]! /= m.rows;
  // Centre first: a float32 product of uncentred rows would lose the covariance to cancellation.
  const centred = { rows: m.rows, cols: m.cols, data: new Float32Array(m.data.length) };
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) centred.data[i * m.cols + j] = m.data[i * m.cols + j]! - mean[j]!;
  const small = Math.min(m.rows, m.cols);
  const product = m.rows > m.cols ? await gram(centred) : await multiplyTransposed(centred, centred);
  const symmetric = new Float64Array(small * small);
  for (let a = 0; a < small; a++) {
    for (let b = 0; b < small; b++) {
      // Symmetrised: the product kernel may sum (a, b) and (b, a) in different orders.
      symmetric[a * small + b] = (product.data[a * small + b]! + product.data[b * small + a]!) / (2 * m.rows);
    }
  }
  if (m.rows > m.cols) return whiteningFromMoments({ count: m.rows, mean, covariance: symmetric }, options);
  const { values, vectors } = symmetricEigen(symmetric, small);
  let trace = 0;
  for (const v of values) trace += Math.max(0, v);
  // Only axes with real variance: centring leaves at most n − 1.
  const tiny = Math.max(values[0]!, 0) * 1e-10;
  const firstTiny = values.findIndex((v) => !(v > tiny));
  const kept = firstTiny < 0 ? small : Math.max(1, firstTiny);
  // axes (kept × cols) = Vᵀ·Xc, each row scaled by 1/√(n·λ).
  const coefficients = { rows: kept, cols: m.rows, data: Float32Array.from(vectors.subarray(0, kept * m.rows)) };
  const axes32 = await multiplyTransposed(coefficients, transpose(centred));
  const axes = new Float64Array(kept * m.cols);
  for (let r = 0; r < kept; r++) {
    const scale = 1 / Math.sqrt(m.rows * values[r]!);
    for (let j = 0; j < m.cols; j++) axes[r * m.cols + j] = axes32.data[r * m.cols + j]! * scale;
  }
  return whiteningFromAxes(mean, values.slice(0, kept), axes, trace, options);
}

/** applyWhitening for every row: (x − μ)·Pᵀ, L2-normalised. */
export async function whitenRows(w: Whitening, m: Matrix): Promise<Matrix> {
  const projection = { rows: w.outputDimension, cols: w.inputDimension, data: w.projection };
  const out = await multiplyTransposed(m, projection);
  const shift = await multiplyTransposed({ rows: 1, cols: w.inputDimension, data: w.mean }, projection);
  for (let i = 0; i < out.rows; i++) {
    const row = rowOf(out, i);
    for (let j = 0; j < row.length; j++) row[j]! -= shift.data[j]!;
  }
  return normalizeRows(out);
}

/** Database-side augmentation of every stored row with its own k nearest others. */
export async function augmentRows(stored: Matrix, options: ExpansionOptions): Promise<Matrix> {
  const skipSelf = Array.from({ length: stored.rows }, (_, i) => new Set([i]));
  const neighbours = await nearest(stored, stored, options.k, { skip: skipSelf });
  return expandRows(stored, stored, neighbours, options);
}

/** Row i of `rows` expanded with its neighbours (indices into `stored`), as rerank.expand does. */
export function expandRows(rows: Matrix, stored: Matrix, neighbours: readonly Ranked[][], options: ExpansionOptions): Matrix {
  const data = new Float32Array(rows.rows * rows.cols);
  for (let i = 0; i < rows.rows; i++) {
    const list = neighbours[i]!.map(({ index, score }) => ({ vector: rowOf(stored, index), score }));
    data.set(expand(rowOf(rows, i), list, options), i * rows.cols);
  }
  return { rows: rows.rows, cols: rows.cols, data };
}
