/**
 * Contender 4: a linear projection of the frozen descriptor, trained on the indexed collection
 * itself without labels. Each image and an augmented view of it are a positive pair, every other
 * image in the batch a negative; the loss is the triplet hinge with the hardest in-batch negative
 * (Hermans et al. 2017), max(0, m − cos(a, p) + cos(a, n)), on L2-normalised projections.
 *
 * It starts from the PCA-whitening of the collection (same mean and output size), so it can only
 * be judged on what training adds to whitening. Plain SGD with momentum; the products run through
 * the bench's matrix kernel, so a run is a few seconds on two cores.
 */
import type { Whitening } from "../../src/retrieval/whitening.ts";
import { type Matrix, multiplyTransposed, rowOf, transpose } from "../lib/matrix.ts";
import { seededRandom, shuffled } from "../lib/random.ts";

export interface TrainingOptions {
  readonly epochs: number;
  readonly batch: number;
  readonly margin: number;
  readonly learningRate: number;
  readonly momentum: number;
  readonly seed: number;
}

export const DEFAULT_TRAINING: TrainingOptions = { epochs: 20, batch: 128, margin: 0.5, learningRate: 0.1, momentum: 0.9, seed: 7 };

export interface TrainingReport {
  readonly projection: Whitening;
  /** Mean loss of the first and the last epoch. */
  readonly lossFirst: number;
  readonly lossLast: number;
}

/** Rows of `m` minus `mean`. */
function centred(m: Matrix, mean: Float32Array): Matrix {
  const data = new Float32Array(m.data.length);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) data[i * m.cols + j] = m.data[i * m.cols + j]! - mean[j]!;
  return { rows: m.rows, cols: m.cols, data };
}

function gather(m: Matrix, rows: readonly number[]): Matrix {
  const data = new Float32Array(rows.length * m.cols);
  rows.forEach((r, i) => data.set(rowOf(m, r), i * m.cols));
  return { rows: rows.length, cols: m.cols, data };
}

/**
 * One batch: forward, hardest-negative triplet loss, gradient w.r.t. the projection (d × D).
 * For u = y/|y|, ∂cos(u_a, u_b)/∂y_a = (u_b − cos·u_a)/|y_a|.
 */
async function batchGradient(w: Matrix, x: Matrix, pairs: number, margin: number): Promise<{ loss: number; gradient: Matrix }> {
  const y = await multiplyTransposed(x, w); // rows: anchors 0..pairs-1, positives pairs..2·pairs-1
  const d = y.cols;
  const norms = Float64Array.from({ length: y.rows }, (_, i) => Math.hypot(...rowOf(y, i)) || 1);
  const u = (i: number) => rowOf(y, i);
  const cos = (i: number, j: number) => {
    let s = 0;
    const a = u(i);
    const b = u(j);
    for (let k = 0; k < d; k++) s += a[k]! * b[k]!;
    return s / (norms[i]! * norms[j]!);
  };
  const dy = new Float32Array(y.rows * d);
  const addGradient = (target: number, other: number, c: number, sign: number) => {
    // sign · ∂cos(target, other)/∂y_target
    const t = u(target);
    const o = u(other);
    const nt = norms[target]!;
    const no = norms[other]!;
    for (let k = 0; k < d; k++) dy[target * d + k]! += (sign * (o[k]! / no - (c * t[k]!) / nt)) / nt;
  };
  let loss = 0;
  for (let a = 0; a < pairs; a++) {
    const p = pairs + a;
    let negative = -1;
    let hardest = -Infinity;
    for (let j = 0; j < y.rows; j++) {
      if (j === a || j === p) continue;
      const c = cos(a, j);
      if (c > hardest) {
        hardest = c;
        negative = j;
      }
    }
    const positive = cos(a, p);
    const value = margin - positive + hardest;
    if (value <= 0) continue;
    loss += value;
    addGradient(a, p, positive, -1);
    addGradient(p, a, positive, -1);
    addGradient(a, negative, hardest, 1);
    addGradient(negative, a, hardest, 1);
  }
  // ∂L/∂W = Σ_v ∂L/∂y_v · x_vᵀ  (d × D) = (dYᵀ)·X = multiplyTransposed(dYᵀ, Xᵀ).
  const gradient = await multiplyTransposed(transpose({ rows: y.rows, cols: d, data: dy }), transpose(x));
  return { loss: loss / pairs, gradient };
}

export async function trainProjection(
  anchors: Matrix,
  positives: Matrix,
  init: Whitening,
  options: TrainingOptions = DEFAULT_TRAINING,
): Promise<TrainingReport> {
  const a = centred(anchors, init.mean);
  const p = centred(positives, init.mean);
  // Start from whitening rescaled to unit row norm: the loss only sees directions, and a sane scale
  // keeps one learning rate meaningful for every collection.
  const w: Matrix = { rows: init.outputDimension, cols: init.inputDimension, data: Float32Array.from(init.projection) };
  let scale = 0;
  for (const v of w.data) scale += v * v;
  scale = Math.sqrt(scale / w.rows);
  for (let i = 0; i < w.data.length; i++) w.data[i]! /= scale;
  const velocity = new Float32Array(w.data.length);
  const random = seededRandom(options.seed);
  const order = Array.from({ length: a.rows }, (_, i) => i);
  let lossFirst = NaN;
  let lossLast = NaN;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const perm = shuffled(order, random);
    let total = 0;
    let batches = 0;
    for (let start = 0; start + 8 <= perm.length; start += options.batch) {
      const rows = perm.slice(start, start + options.batch);
      const x = gather(a, rows);
      const xp = gather(p, rows);
      const stacked: Matrix = { rows: 2 * rows.length, cols: a.cols, data: new Float32Array(2 * rows.length * a.cols) };
      stacked.data.set(x.data, 0);
      stacked.data.set(xp.data, x.data.length);
      const { loss, gradient } = await batchGradient(w, stacked, rows.length, options.margin);
      for (let i = 0; i < w.data.length; i++) {
        velocity[i] = options.momentum * velocity[i]! - (options.learningRate * gradient.data[i]!) / rows.length;
        w.data[i]! += velocity[i]!;
      }
      total += loss;
      batches++;
    }
    if (epoch === 0) lossFirst = total / batches;
    lossLast = total / batches;
  }
  return {
    projection: { ...init, projection: w.data },
    lossFirst,
    lossLast,
  };
}
