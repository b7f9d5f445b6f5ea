/**
 * PCA-whitening learned on a collection's own vectors (Jégou & Chum, "Negative evidences and
 * co-occurrences in image retrieval", ECCV 2012): centre on the collection mean, rotate onto the
 * principal axes, divide each axis by a power of its variance, L2-normalise. Centring removes what
 * every image shares (the "this is a photo" direction that makes unrelated images look ~0.6
 * alike); the division stops a few high-variance, bursty directions from dominating the cosine.
 *
 * Collections are often smaller than the descriptor (a 287-image server vs 1280 dimensions), so
 * the sample covariance has many zero or tiny eigenvalues. Dividing by those would blow noise up:
 * the eigenvalues are shrunk towards their mean first (as Ledoit–Wolf shrinkage of the
 * covariance towards a multiple of the identity), and the power can be below the full ½.
 *
 * Pure TypeScript, no dependencies: the eigendecomposition is the classic Householder
 * tridiagonalisation + implicit QL (EISPACK tred2/tql2, as in JAMA), O(n³) and exact to rounding.
 */
import { LookalikeError } from "./errors.ts";
import { l2normalize, type TransposedProduct } from "./vectors.ts";

export interface WhiteningOptions {
  /** Output dimensions: the leading principal axes kept (default: all of the input's). */
  readonly dimensions?: number;
  /** β in [0, 1]: each eigenvalue λ becomes (1 − β)·λ + β·mean(λ) before the division (default 0.1). */
  readonly shrinkage?: number;
  /** Each axis is divided by λ^power: ½ is full whitening, 0 a plain PCA rotation (default ½). */
  readonly power?: number;
}

export interface Whitening {
  readonly inputDimension: number;
  readonly outputDimension: number;
  readonly mean: Float32Array;
  /** outputDimension × inputDimension, row-major: row r is principal axis r scaled by λ_r^-power. */
  readonly projection: Float32Array;
  /** Variance along each kept axis (before shrinkage), largest first. */
  readonly eigenvalues: Float64Array;
}

export interface Moments {
  readonly count: number;
  readonly mean: Float64Array;
  /** Covariance (divided by count), dimension × dimension, row-major. */
  readonly covariance: Float64Array;
}

export const DEFAULT_WHITENING: Required<WhiteningOptions> = { dimensions: Infinity, shrinkage: 0.1, power: 0.5 };

/**
 * Fits a whitening to `vectors` (all of one dimension; at least two of them). With fewer vectors
 * than dimensions the covariance has rank < count, and its eigenvectors are found from the much
 * smaller count × count Gram matrix instead (the "dual" PCA): same axes, a fraction of the work.
 */
export function fitWhitening(vectors: readonly Float32Array[], options: WhiteningOptions = {}): Whitening {
  const dimension = checkVectors(vectors);
  if (vectors.length > dimension) return whiteningFromMoments(moments(vectors), options);
  const mean = meanOf(vectors, dimension);
  const count = vectors.length;
  const centred = vectors.map((v) => Float64Array.from(v, (x, i) => x - mean[i]!));
  const gramMatrix = new Float64Array(count * count);
  for (let a = 0; a < count; a++) {
    for (let b = a; b < count; b++) {
      let sum = 0;
      const va = centred[a]!;
      const vb = centred[b]!;
      for (let i = 0; i < dimension; i++) sum += va[i]! * vb[i]!;
      gramMatrix[a * count + b] = gramMatrix[b * count + a] = sum / count;
    }
  }
  const { values, vectors: coefficients } = symmetricEigen(gramMatrix, count);
  // Axis r = Σ_a v_r[a]·x_a / √(count·λ_r), unit length; only axes with real variance (centring
  // leaves at most count − 1).
  const tiny = Math.max(values[0]!, 0) * 1e-10;
  const rank = values.findIndex((v) => !(v > tiny));
  const axes = new Float64Array((rank < 0 ? count : rank) * dimension);
  for (let r = 0; r < axes.length / dimension; r++) {
    const scale = 1 / Math.sqrt(count * values[r]!);
    for (let a = 0; a < count; a++) {
      const weight = coefficients[r * count + a]! * scale;
      const va = centred[a]!;
      for (let i = 0; i < dimension; i++) axes[r * dimension + i]! += weight * va[i]!;
    }
  }
  return whiteningFromAxes(mean, values.subarray(0, axes.length / dimension), axes, sumOf(values), options);
}

/** Mean and covariance of the vectors, accumulated in double precision. */
export function moments(vectors: readonly Float32Array[]): Moments {
  const dimension = checkVectors(vectors);
  const count = vectors.length;
  const mean = meanOf(vectors, dimension);
  // Upper triangle only (the matrix is symmetric), mirrored afterwards: half the work.
  const covariance = new Float64Array(dimension * dimension);
  const centred = new Float64Array(dimension);
  for (const v of vectors) {
    for (let i = 0; i < dimension; i++) centred[i] = v[i]! - mean[i]!;
    for (let i = 0; i < dimension; i++) {
      const ci = centred[i]!;
      if (ci === 0) continue;
      const row = i * dimension;
      for (let j = i; j < dimension; j++) covariance[row + j]! += ci * centred[j]!;
    }
  }
  for (let i = 0; i < dimension; i++) {
    for (let j = i; j < dimension; j++) {
      const value = covariance[i * dimension + j]! / count;
      covariance[i * dimension + j] = value;
      covariance[j * dimension + i] = value;
    }
  }
  return { count, mean, covariance };
}

/** The whitening for already computed moments (callers with a faster matrix product use this). */
export function whiteningFromMoments(m: Moments, options: WhiteningOptions = {}): Whitening {
  const { values, vectors } = symmetricEigen(m.covariance, m.mean.length);
  return whiteningFromAxes(m.mean, values, vectors, sumOf(values), options);
}

/**
 * Builds the projection from principal axes (unit rows of `axes`, largest variance first, with
 * their variances `values`), for callers that found the axes themselves. `trace` is the total
 * variance over all input dimensions, so the shrinkage target (its mean per dimension) is the same
 * whichever way the axes were found.
 */
export function whiteningFromAxes(
  mean: Float64Array,
  values: Float64Array,
  axes: Float64Array,
  trace: number,
  options: WhiteningOptions,
): Whitening {
  const { dimensions, shrinkage, power } = { ...DEFAULT_WHITENING, ...definedOnly(options) };
  if (!(shrinkage >= 0 && shrinkage <= 1) || !(power >= 0) || !(dimensions >= 1)) {
    throw new LookalikeError("internal", "Invalid whitening options.", { dimensions, shrinkage, power });
  }
  const n = mean.length;
  const kept = Math.min(values.length, Math.floor(Math.min(dimensions, n)));
  const meanValue = Math.max(0, trace) / n;
  const projection = new Float32Array(kept * n);
  for (let r = 0; r < kept; r++) {
    const shrunk = (1 - shrinkage) * Math.max(0, values[r]!) + shrinkage * meanValue;
    // A collection with no variance at all (every vector equal) has nothing to whiten: rotate only.
    const scale = shrunk > 0 ? shrunk ** -power : 1;
    for (let c = 0; c < n; c++) projection[r * n + c] = axes[r * n + c]! * scale;
  }
  return {
    inputDimension: n,
    outputDimension: kept,
    mean: Float32Array.from(mean),
    projection,
    eigenvalues: values.slice(0, kept),
  };
}

/**
 * The same whitening keeping only its `dimensions` strongest axes (the rows are in order of
 * decreasing variance): a cheaper metric where many vectors must be projected per query.
 */
export function truncateWhitening(w: Whitening, dimensions: number): Whitening {
  const kept = Math.max(1, Math.min(w.outputDimension, Math.floor(dimensions)));
  return {
    ...w,
    outputDimension: kept,
    projection: w.projection.subarray(0, kept * w.inputDimension),
    eigenvalues: w.eigenvalues.slice(0, kept),
  };
}

function checkVectors(vectors: readonly Float32Array[]): number {
  const dimension = vectors[0]?.length ?? 0;
  if (vectors.length < 2 || dimension === 0 || vectors.some((v) => v.length !== dimension)) {
    throw new LookalikeError("internal", `Whitening needs at least two vectors of one dimension, got ${vectors.length}.`);
  }
  return dimension;
}

function meanOf(vectors: readonly Float32Array[], dimension: number): Float64Array {
  const mean = new Float64Array(dimension);
  for (const v of vectors) for (let i = 0; i < dimension; i++) mean[i]! += v[i]!;
  for (let i = 0; i < dimension; i++) mean[i]! /= vectors.length;
  return mean;
}

function sumOf(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += Math.max(0, v);
  return sum;
}

/** The whitened, L2-normalised vector (a new array of `outputDimension` values). */
export function applyWhitening(w: Whitening, v: Float32Array): Float32Array {
  if (v.length !== w.inputDimension) {
    throw new LookalikeError("internal", `Whitening expects ${w.inputDimension} values, got ${v.length}.`);
  }
  const n = w.inputDimension;
  const centred = new Float64Array(n);
  for (let i = 0; i < n; i++) centred[i] = v[i]! - w.mean[i]!;
  const out = new Float32Array(w.outputDimension);
  for (let r = 0; r < w.outputDimension; r++) {
    const row = r * n;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += w.projection[row + i]! * centred[i]!;
    out[r] = sum;
  }
  return l2normalize(out);
}

/**
 * applyWhitening for many vectors at once, the matrix product computed by `product` (the inference
 * worker's, native and vectorised: a repost check projects dozens of vectors, ~2 ms each through
 * 1280 axes in this thread). Its float32 sums agree with applyWhitening's float64 ones to ~1e-6.
 * Without `product`, applyWhitening one by one.
 */
export async function applyWhiteningMany(
  w: Whitening,
  vectors: readonly Float32Array[],
  product?: TransposedProduct,
): Promise<Float32Array[]> {
  if (!product || vectors.length === 0) return vectors.map((v) => applyWhitening(w, v));
  const n = w.inputDimension;
  const centred = new Float32Array(vectors.length * n);
  vectors.forEach((v, k) => {
    if (v.length !== n) throw new LookalikeError("internal", `Whitening expects ${n} values, got ${v.length}.`);
    for (let i = 0; i < n; i++) centred[k * n + i] = v[i]! - w.mean[i]!;
  });
  // A copy: the product's arguments are transferred away, and the projection may be a view (truncateWhitening).
  const out = w.outputDimension;
  const values = await product(centred, w.projection.slice(0, out * n), n);
  return vectors.map((_, k) => l2normalize(values.slice(k * out, (k + 1) * out)));
}

/**
 * Eigenvalues (descending) and unit eigenvectors of a real symmetric n×n matrix (row-major; only
 * read, never modified). `vectors` is row-major with eigenvector r in row r.
 *
 * Householder reduction to tridiagonal form, then the implicit QL algorithm with Wilkinson-like
 * shifts (EISPACK tred2/tql2 via JAMA, public domain). The transformation matrix is kept
 * transposed (row r holds what JAMA keeps in column r) so every inner loop walks memory in order.
 */
export function symmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  if (!Number.isInteger(n) || n < 1 || matrix.length !== n * n) {
    throw new LookalikeError("internal", `symmetricEigen needs an n×n matrix, got ${matrix.length} values for n = ${n}.`);
  }
  const w = Float64Array.from(matrix); // w[j*n + k] = V[k][j]; V starts as the (symmetric) input
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(w, d, e, n);
  diagonalize(w, d, e, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[b]! - d[a]!);
  const values = Float64Array.from(order, (i) => d[i]!);
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => vectors.set(w.subarray(from * n, (from + 1) * n), to * n));
  return { values, vectors };
}

/** tred2: w ← the accumulated Householder transformation, d ← diagonal, e ← sub-diagonal. */
function tridiagonalize(w: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  const at = (row: number, col: number) => col * n + row; // V[row][col]
  for (let j = 0; j < n; j++) d[j] = w[at(n - 1, j)]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = w[at(i - 1, j)]!;
        w[at(i, j)] = 0;
        w[at(j, i)] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k]! /= scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        w[at(j, i)] = f;
        const col = j * n;
        g = e[j]! + w[col + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += w[col + k]! * d[k]!;
          e[k]! += w[col + k]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j]! /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        const col = j * n;
        for (let k = j; k <= i - 1; k++) w[col + k]! -= f * e[k]! + g * d[k]!;
        d[j] = w[at(i - 1, j)]!;
        w[at(i, j)] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    w[at(n - 1, i)] = w[at(i, i)]!;
    w[at(i, i)] = 1;
    const h = d[i + 1]!;
    const next = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = w[next + k]! / h;
      for (let j = 0; j <= i; j++) {
        const col = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += w[next + k]! * w[col + k]!;
        for (let k = 0; k <= i; k++) w[col + k]! -= g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) w[next + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = w[at(n - 1, j)]!;
    w[at(n - 1, j)] = 0;
  }
  w[at(n - 1, n - 1)] = 1;
  e[0] = 0;
}

/** tql2: diagonalises the tridiagonal (d, e), applying every rotation to the rows of w. */
function diagonalize(w: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n && Math.abs(e[m]!) > eps * tst1) m++;
    if (m > l) {
      let iterations = 0;
      do {
        if (++iterations > 100) throw new LookalikeError("internal", "symmetricEigen did not converge.");
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          const lower = i * n;
          const upper = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            const t = w[upper + k]!;
            w[upper + k] = s * w[lower + k]! + c * t;
            w[lower + k] = c * w[lower + k]! - s * t;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l]! += f;
    e[l] = 0;
  }
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
